// Shared set-up for the specs: Debian's Chromium through playwright-core, people signed up
// through the API (their cookies live in their browser context), and the ways the specs
// look at a page: the roles and names a person would use.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE = process.env.PARLOR_BASE_URL ?? 'http://127.0.0.1:3000';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
export const PASSWORD = 'a long enough password';

/// Fails if any page threw: call it at the end of a spec file.
export function assertNoPageErrors() {
  if (pageErrors.length > 0) throw new Error(`pages threw:\n${pageErrors.join('\n')}`);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/// Errors thrown in the pages (a panic in the WASM shows as one): every spec file checks at
/// its end that there were none.
export const pageErrors = [];

/// A page in a fresh context; with `js` false the browser runs no script at all.
export async function newPage(browser, { js = true, viewport = DESKTOP, colorScheme = 'light', base = BASE, touch = false } = {}) {
  const context = await browser.newContext({
    javaScriptEnabled: js,
    viewport,
    hasTouch: touch,
    isMobile: touch,
    colorScheme,
    reducedMotion: 'reduce',
    baseURL: base,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => {
    console.error(`[page error] ${page.url()}: ${e.message}`);
    pageErrors.push(`${page.url()}: ${e.message}`);
  });
  page.on('console', (m) => {
    // Refused requests log as console errors too; those are expected, panics are not.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      console.error(`[console] ${page.url()}: ${m.text()}`);
    }
    // Anything the Content-Security-Policy blocked is a defect of ours.
    if (m.text().includes('Content Security Policy')) {
      pageErrors.push(`${page.url()}: ${m.text()}`);
    }
  });
  return page;
}

/// Loads `path`; with JavaScript on, waits until the WASM has hydrated the page.
export async function open(page, path, { js = true } = {}) {
  await page.goto(path);
  if (js) await page.waitForSelector('body[data-hydrated="true"]');
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

export function uniqueName(prefix) {
  return `${prefix}${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 1e3)}`;
}

/// POSTs JSON to an API endpoint with the page's cookies; returns the answer, or throws it.
export async function api(page, path, data = {}) {
  const res = await page.request.post(path, { data });
  const body = await res.json();
  if (!res.ok()) throw Object.assign(new Error(`${path}: ${body.code}: ${body.message}`), body);
  return body;
}

/// Someone with an account, signed in, on the start page.
export async function person(browser, prefix, options = {}) {
  const page = await newPage(browser, options);
  const username = uniqueName(prefix);
  const { user } = await api(page, '/api/auth/signup', { username, password: PASSWORD });
  await open(page, '/', options);
  return { page, user, name: username };
}

export async function createRoom(page, { name, topic, join_policy = 'request', max_members } = {}) {
  const { room } = await api(page, '/api/rooms/create', { name, topic, join_policy, max_members });
  return room;
}

export const log = (page) => page.getByRole('log');
export const composer = (page) => page.getByRole('textbox', { name: 'Message' });
export const yourRooms = (page) => page.getByRole('list', { name: 'Your rooms' });

/// Types `text` into the composer and presses Enter.
export async function say(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/// Waits until the timeline shows `text` as a stored message (not a pending one).
export async function seeMessage(page, text) {
  await log(page).locator('.msg:not(.pending)', { hasText: text }).first().waitFor();
}

/// How many stored messages in the timeline have exactly this body.
export async function countMessages(page, text) {
  return log(page).locator('.msg:not(.pending) .msg-body', { hasText: new RegExp(`^${escape(text)}$`) }).count();
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/// Resolves when `fn` returns true, polling; fails with `what` after `ms`.
export async function eventually(fn, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
