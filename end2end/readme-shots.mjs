// Takes the README's screenshots (docs/screenshots/) from a fresh server with a small,
// lived-in room. Not a test: run it by hand after a UI change, look at the pictures, commit.
// Usage: node end2end/readme-shots.mjs   (after `cargo leptos build --release`)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const port = 3000 + Math.floor(Math.random() * 1000) + 3000;
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'parlor-shots-'));
const server = spawn(join(root, 'target', 'release', 'parlor'), [
  'serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--site-root', join(root, 'target', 'site'),
], { stdio: 'inherit', env: { ...process.env, RUST_LOG: 'warn' } });
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/readyz`)).ok) break; } catch { /* starting */ }
    if (i > 100) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const people = {};
  for (const name of ['ana', 'bob', 'cleo', 'dev']) {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
    await context.request.post('/api/auth/signup', { data: { username: name, password: 'correct horse battery' } });
    people[name] = context;
  }
  const call = async (who, path, data) => (await (await people[who].request.post(path, { data })).json());
  const { room } = await call('ana', '/api/rooms/create', {
    name: 'Board games', topic: 'Saturday nights, card games and the occasional tableflip', join_policy: 'open',
  });
  await call('ana', '/api/rooms/create', { name: 'Book club', join_policy: 'request' });
  await call('ana', '/api/rooms/create', { name: 'Hiking', join_policy: 'invite' });
  for (const who of ['bob', 'cleo', 'dev']) await call(who, '/api/rooms/join', { room_id: room.id });
  let n = 0;
  const say = (who, body, extra = {}) => call(who, '/api/messages/send', { room_id: room.id, client_id: `s${n++}`, body, ...extra });
  await say('bob', 'Anyone up for Catan on Saturday?');
  await say('ana', 'Yes! I can bring snacks. The house rules are here: https://example.org/catan', { color: 'teal' });
  await say('cleo', 'Count me in.\nI will be a bit late though — train from work.');
  await call('cleo', '/api/messages/send', { room_id: room.id, client_id: `s${n++}`, sticker: 'cat' });
  await say('dev', 'I will bring the expansion. Who keeps score this time?');
  await say('bob', 'Not me, I always forget the longest road.');
  await call('dev', '/api/rooms/leave', { room_id: room.id });
  await call('dev', '/api/rooms/join', { room_id: room.id });

  const page = await people.ana.newPage();
  await page.goto(`/rooms/${room.id}`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByRole('log').getByText('longest road').waitFor();
  await page.locator('#online-heading', { hasText: /[1-9]/ }).waitFor();
  await page.getByRole('textbox', { name: 'Message' }).fill('Then it is settled: 7 pm at my place.');
  await page.screenshot({ path: join(out, 'chat.png') });
  await page.goto(`/rooms/${room.id}/admin`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.screenshot({ path: join(out, 'admin.png') });
  await browser.close();
  console.log(`wrote ${join(out, 'chat.png')} and ${join(out, 'admin.png')}`);
} finally {
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
