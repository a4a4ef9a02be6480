// Shared set-up for the specs: Debian's Chromium through playwright-core.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE = process.env.PARLOR_BASE_URL ?? 'http://127.0.0.1:3000';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
}

/// A page in a fresh context; with `js` false the browser runs no script at all.
export async function newPage(browser, { js }) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/// Loads `path`; with JavaScript on, waits until the WASM has hydrated the page.
export async function open(page, path, { js }) {
  await page.goto(`${BASE}${path}`);
  if (js) await page.waitForSelector('body[data-hydrated="true"]');
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export function uniqueName(prefix) {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}
