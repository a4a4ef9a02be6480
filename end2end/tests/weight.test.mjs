// What a person's browser downloads (docs/BENCHMARKS.md, S8): the client's files come
// compressed and are cached for good, so a cold room page stays within the budget and a
// second visit fetches none of them again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, open, say, seeMessage, uniqueName, createRoom, composer, assertNoPageErrors, BASE,
  api, eventually,
} from './browser.mjs';

// Compressed JS + WebAssembly of a cold room page, in bytes. The target of issue 22 is
// 450 KiB; this ratchet sits just above what the release build sends today, so a change
// that makes the client heavier fails here. Raised from 650 KiB with the moderation of
// issue 24 (the composer's holds, the member list's timeouts, a message's Report and Time
// out): 655,285 → 691,295 bytes (docs/BENCHMARKS.md, "What moderation added").
const CLIENT_BUDGET = 680 * 1024;

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

/// Counts what went over the wire per response while `load` runs (Chrome's own accounting:
/// compressed bytes, headers included; nothing for a response served from a cache).
async function transferred(page, load) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const responses = new Map();
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    responses.set(requestId, { url: response.url, headers: response.headers, fromCache: response.fromDiskCache || response.fromServiceWorker, bytes: 0 });
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const r = responses.get(requestId);
    if (r) r.bytes = encodedDataLength;
  });
  await load();
  await cdp.detach();
  return [...responses.values()];
}

const isClient = (r) => /\/pkg\/[^/]+\.(js|wasm)$/.test(new URL(r.url).pathname);
// The loader of the lazily loaded parts: cargo-leptos may keep its name when the parts it
// names change, so it is checked on every use instead of cached for good.
const isSplitLoader = (r) => /\/pkg\/__wasm_split\.[A-Za-z0-9_-]+\.js$/.test(new URL(r.url).pathname);
// A page's own part of the client (`cargo leptos build --split`).
const isLazyPart = (r) => /\/pkg\/(split_|chunk_)[^/]+\.wasm$/.test(new URL(r.url).pathname);
const header = (r, name) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === name)?.[1];

test('a cold room page downloads the client compressed and within budget; a second visit downloads none of it', async () => {
  const ann = await person(browser, 'ann');
  const room = await createRoom(ann.page, { name: uniqueName('Weigh'), join_policy: 'open' });

  // A fresh context: nothing cached, no service worker yet.
  const cold = await browser.newContext({ baseURL: BASE });
  await cold.addCookies(await ann.page.context().cookies());
  const coldPage = await cold.newPage();
  const first = await transferred(coldPage, () => open(coldPage, `/rooms/${room.id}`));
  const client = first.filter(isClient);
  assert.ok(client.some((r) => r.url.endsWith('.wasm')), 'the WebAssembly was loaded');
  assert.deepEqual(client.filter(isLazyPart).map((r) => r.url), [], 'no other page\'s part is loaded');
  for (const r of client) {
    assert.equal(header(r, 'content-encoding'), 'br', `${r.url} comes as Brotli`);
    if (isSplitLoader(r)) {
      assert.equal(header(r, 'cache-control'), 'no-cache', `${r.url} is checked on every use`);
      continue;
    }
    assert.match(header(r, 'cache-control'), /immutable/, `${r.url} is cached for good`);
    assert.match(new URL(r.url).pathname, /\/pkg\/parlor\.[A-Za-z0-9_-]+\.(js|wasm)$/, 'its name carries a content hash');
  }
  const clientBytes = client.reduce((n, r) => n + r.bytes, 0);
  console.log(`cold room page: client ${clientBytes} bytes compressed, all ${first.reduce((n, r) => n + r.bytes, 0)} bytes`);
  assert.ok(clientBytes <= CLIENT_BUDGET, `client ${clientBytes} bytes > budget ${CLIENT_BUDGET}`);
  // The page works: a message goes out.
  await say(coldPage, 'weighed and working');
  await seeMessage(coldPage, 'weighed and working');

  // Again, as a person coming back: the page itself is new, the client's files are not.
  await coldPage.evaluate(() => navigator.serviceWorker.ready);
  const second = await transferred(coldPage, () => open(coldPage, `/rooms/${room.id}`));
  const again = second.filter(isClient);
  assert.ok(again.length > 0, 'the client was asked for');
  const fetched = again.filter((r) => r.bytes > 0 && !r.fromCache);
  assert.deepEqual(fetched.map((r) => r.url), [], 'nothing of the client is downloaded twice');
  await composer(coldPage).waitFor();
  await cold.close();
});

test('the admin page\'s part of the client loads when the page is first opened, and the page works', async () => {
  const ann = await person(browser, 'ann');
  const bob = await person(browser, 'bob');
  const room = await createRoom(ann.page, { name: uniqueName('Split'), join_policy: 'request' });
  await api(bob.page, '/api/rooms/join', { room_id: room.id });

  // Service workers off: they would fetch every part ahead (the prefetch), and this test
  // watches the page ask for its part itself.
  const cold = await browser.newContext({ baseURL: BASE, serviceWorkers: 'block' });
  await cold.addCookies(await ann.page.context().cookies());
  const page = await cold.newPage();
  const first = await transferred(page, () => open(page, `/rooms/${room.id}`));
  assert.deepEqual(first.filter(isLazyPart).map((r) => r.url), [], 'the room page loads no lazy part');

  // A client-side navigation to the admin page: its part comes now, as Brotli, cached for good.
  const opened = await transferred(page, async () => {
    await page.getByRole('link', { name: /^Manage the room/ }).click();
    await page.waitForURL((u) => u.pathname === `/rooms/${room.id}/admin`);
    await page.getByRole('heading', { name: 'Requests to join' }).waitFor();
  });
  const parts = opened.filter(isLazyPart);
  assert.ok(parts.some((r) => /split___admin_route_view_/.test(r.url)), `the admin part was fetched: ${opened.map((r) => r.url)}`);
  for (const r of parts) {
    assert.equal(header(r, 'content-encoding'), 'br', `${r.url} comes as Brotli`);
    assert.match(header(r, 'cache-control'), /immutable/, `${r.url} is cached for good`);
  }
  // It works: approving Bob lets him in, as the server says.
  await page.getByRole('button', { name: `Approve ${bob.name}` }).click();
  await page.getByText('Nobody is waiting.').waitFor();
  await eventually(async () => {
    const members = await api(ann.page, '/api/rooms/members', { room_id: room.id });
    return members.members.some((m) => m.user.username === bob.name);
  }, 'Bob is a member');
  await cold.close();
});
