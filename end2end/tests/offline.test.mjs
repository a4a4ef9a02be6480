// When the server goes away, the page says so and counts down; when it is back, the page
// recovers by itself. A browser that goes offline misses nothing and doubles nothing.
// This spec runs a server of its own, so it can stop and start it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  launch, person, open, shot, uniqueName, api, createRoom, composer, say, seeMessage,
  countMessages, eventually, assertNoPageErrors,
} from './browser.mjs';

const binary = process.env.PARLOR_BIN;
const siteRoot = process.env.PARLOR_SITE_ROOT;

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });

/// A Parlor of this spec's own, on a fixed port and data folder, that it can stop and start.
class OwnServer {
  async init() {
    this.port = await freePort();
    this.dataDir = mkdtempSync(join(tmpdir(), 'parlor-offline-'));
    this.base = `http://127.0.0.1:${this.port}`;
  }

  async start({ databaseUrl, ready = true } = {}) {
    const args = [
      'serve', '--addr', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir,
      '--site-root', siteRoot, '--auth-rate-burst', '1000',
    ];
    if (databaseUrl) args.push('--database-url', databaseUrl);
    this.child = spawn(binary, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, RUST_LOG: 'error' } });
    await eventually(async () => {
      try { return (await fetch(`${this.base}/${ready ? 'readyz' : 'healthz'}`)).ok; } catch { return false; }
    }, 'the server to start', 30_000);
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }

  async remove() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

let browser;
const server = new OwnServer();
before(async () => {
  browser = await launch();
  await server.init();
  await server.start();
});
after(async () => {
  await browser?.close();
  await server.remove();
  assertNoPageErrors();
});

const banner = (page) => page.getByRole('alert').filter({ hasText: "Can't reach the server." });

test('the server stops: a banner with a countdown; it starts again: the page recovers by itself', async (t) => {
  const a = await person(browser, 'ana', { base: server.base });
  const b = await person(browser, 'bob', { base: server.base });
  const room = await createRoom(a.page, { name: uniqueName('Down'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`);
  await a.page.evaluate(() => { window.__samePage = true; });
  await composer(a.page).fill('a draft to keep');

  await server.stop();
  const stoppedAt = Date.now();
  await banner(a.page).waitFor({ timeout: 5_000 });
  t.diagnostic(`banner after ${Date.now() - stoppedAt} ms`);
  await banner(a.page).getByText(/Retrying in \d+ s/).waitFor();
  await shot(a.page, 'server-unreachable');

  await server.start();
  // Nobody reloads: the countdown runs out, the page reconnects and the banner goes.
  await banner(a.page).waitFor({ state: 'detached', timeout: 45_000 });
  assert.equal(await a.page.evaluate(() => window.__samePage), true, 'the page was not reloaded');
  assert.equal(await composer(a.page).inputValue(), 'a draft to keep');
  // Live again: Bob's message arrives.
  await api(b.page, '/api/messages/send', { room_id: room.id, client_id: 'back-1', body: 'are you back?' });
  await seeMessage(a.page, 'are you back?');
  for (const p of [a, b]) await p.page.context().close();
});

test('offline and back: every missed message exactly once, the one typed offline sent once', async () => {
  const a = await person(browser, 'ana', { base: server.base });
  const b = await person(browser, 'bob', { base: server.base });
  const room = await createRoom(a.page, { name: uniqueName('Off'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`);
  await open(b.page, `/rooms/${room.id}`);
  await say(b.page, 'before');
  await seeMessage(a.page, 'before');

  await a.page.context().setOffline(true);
  await banner(a.page).waitFor();
  for (const text of ['missed one', 'missed two', 'missed three']) {
    await say(b.page, text);
    await seeMessage(b.page, text);
  }
  await say(a.page, 'typed while offline');
  await a.page.locator('.msg.pending', { hasText: 'typed while offline' }).waitFor();
  await shot(a.page, 'offline-pending');

  await a.page.context().setOffline(false);
  await banner(a.page).waitFor({ state: 'detached', timeout: 45_000 });
  await seeMessage(a.page, 'missed three');
  await seeMessage(b.page, 'typed while offline');
  for (const text of ['missed one', 'missed two', 'missed three', 'typed while offline']) {
    assert.equal(await countMessages(a.page, text), 1, `A shows "${text}" once`);
  }
  assert.equal(await a.page.locator('.msg.pending').count(), 0, 'nothing left pending');
  assert.equal(await countMessages(b.page, 'typed while offline'), 1, 'sent once');
  // And stored once: the history agrees.
  const { messages } = await api(b.page, '/api/messages/history', { room_id: room.id, limit: 100 });
  assert.equal(messages.filter((m) => m.body === 'typed while offline').length, 1);
  for (const p of [a, b]) await p.page.context().close();
});

test('the service worker shows an offline page for a navigation while the server is down', async () => {
  const a = await person(browser, 'ana', { base: server.base });
  await open(a.page, '/');
  // The worker takes this page over once it is active (clients.claim). Installing means
  // fetching the 2.6 MB bundle; after a busy run of specs that has once taken over 20 s, so
  // the page is loaded again (any later page is controlled) before waiting once more.
  const controlled = () => a.page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20_000 });
  await controlled().catch(async () => {
    await open(a.page, '/');
    await controlled();
  });

  await server.stop();
  await a.page.goto('/rooms');
  await a.page.getByRole('heading', { name: "Parlor can't reach its server" }).waitFor();
  await a.page.getByText(/Trying again in \d+ s/).waitFor();
  await shot(a.page, 'offline-page');

  await server.start();
  // The page notices by itself and reloads into the app, at the address asked for.
  await a.page.getByRole('heading', { name: 'Find rooms' }).waitFor({ timeout: 45_000 });
  assert.equal(new URL(a.page.url()).pathname, '/rooms');
  await a.page.context().close();
});

/// A TCP relay to the machine's PostgreSQL that the test can cut and restore: the database
/// "goes away" for Parlor without stopping the real one.
class Relay {
  constructor(target) {
    this.target = target;
    this.sockets = new Set();
  }

  async start(port = 0) {
    this.server = createServer((client) => {
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = this.server.address().port;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

const psql = (sql) => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-c', sql], { stdio: 'pipe' });

test('while the database is down, pages answer 503 with a page that recovers by itself (PostgreSQL)', async () => {
  const name = `parlor_e2e_${Date.now()}`;
  psql(`CREATE DATABASE ${name}`);
  const relay = new Relay({ host: '127.0.0.1', port: 5432 });
  const own = new OwnServer();
  await own.init();
  try {
    // Start with the database unreachable: Parlor listens anyway, and says it is not ready.
    await relay.start();
    const port = relay.port;
    await relay.stop();
    await own.start({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/${name}`, ready: false });
    const page = await (await browser.newContext({ baseURL: own.base, reducedMotion: 'reduce' })).newPage();
    const first = await page.goto('/login');
    assert.equal(first.status(), 503);
    await page.getByRole('heading', { name: 'Parlor is not ready yet' }).waitFor();
    assert.equal((await fetch(`${own.base}/readyz`)).status, 503);
    assert.equal((await fetch(`${own.base}/healthz`)).status, 200);
    await shot(page, 'not-ready');

    // The database comes: the page reloads itself into the app.
    await relay.start(port);
    await page.getByRole('heading', { name: 'Log in to Parlor' }).waitFor({ timeout: 60_000 });

    // It goes away again after start: a page asked for is the 503 page, not an error.
    const { user } = await (await page.request.post('/api/auth/signup', { data: { username: `pg${Date.now().toString(36)}`, password: 'a long enough password' } })).json();
    assert.ok(user.id);
    await relay.stop();
    const down = await page.goto('/');
    assert.equal(down.status(), 503);
    await page.getByRole('heading', { name: 'Parlor is not ready yet' }).waitFor();
    await relay.start(port);
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor({ timeout: 60_000 });
    await page.context().close();
  } finally {
    await own.remove();
    await relay.stop().catch(() => {});
    psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
});
