// S8 (docs/BENCHMARKS.md): what a person waits for. Chromium loads a room page cold (empty
// cache, no service worker) and warm (the same browser again), unthrottled and under
// emulated "Fast 3G" (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip), and records
// first contentful paint, the time until the page is hydrated (the composer sends from
// then on), and the bytes that crossed the wire. The floor, in the same run: the same
// page's HTML as a static file with no script, served from here, its stylesheet from Parlor.
//
//   node bench/s8.mjs BASE COOKIE ROOM_ID [RUNS]     (bench/s8.sh sets it all up)
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { brotliCompressSync } from 'node:zlib';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [base, cookie, roomId, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const path = `/rooms/${roomId}`;

// The floor: the page as Parlor rendered it, minus every script and preload.
const html = await (await fetch(base + path, { headers: { cookie } })).text();
const staticHtml = html
  .replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '')
  .replace(/<link rel="(modulepreload|preload)"[^>]*>/g, '');
const staticBr = brotliCompressSync(staticHtml);
const floor = createServer((req, res) => {
  if (req.url === path) {
    // Compressed as Parlor compresses its pages, so the floor is not the heavier page.
    const br = /\bbr\b/.test(req.headers['accept-encoding'] ?? '');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache',
      ...(br ? { 'content-encoding': 'br', vary: 'accept-encoding' } : {}),
    });
    res.end(br ? staticBr : staticHtml);
    return;
  }
  // Everything else (the stylesheet, the icon) passed through from Parlor, bytes as sent.
  const upstream = request(base + req.url, { headers: { 'accept-encoding': req.headers['accept-encoding'] ?? '' } }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.end();
});
await new Promise((r) => floor.listen(0, '127.0.0.1', r));
const floorBase = `http://127.0.0.1:${floor.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});

const FAST_3G = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8), uploadThroughput: (750e3 / 8) };
const NONE = { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };

async function load(page, cdp, url, hydrates) {
  let bytes = 0;
  const onDone = ({ encodedDataLength }) => { bytes += encodedDataLength; };
  cdp.on('Network.loadingFinished', onDone);
  await page.goto(url, { waitUntil: 'load' });
  if (hydrates) await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120_000 });
  const times = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    hydrated: window.__hydratedAt ?? null,
  }));
  // Late responses (the worker's own fetches) are not the page's: stop counting.
  cdp.off('Network.loadingFinished', onDone);
  return { ...times, bytes };
}

async function visit(origin, network, hydrates) {
  // Service workers blocked: a worker's own fetches escape the page's throttling and its
  // byte count, so the warm visit measures the HTTP cache, which the immutable names fill.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: origin }]);
  // When hydration marks the body, note the time since navigation began.
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', network);
  const cold = await load(page, cdp, origin + path, hydrates);
  const warm = await load(page, cdp, origin + path, hydrates);
  await context.close();
  return { cold, warm };
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};
const ms = (x) => (x === null ? '—' : `${Math.round(x)} ms`);

console.log(`# ${new Date().toISOString()} S8, ${runs} runs each, medians; room page ${html.length} bytes of HTML`);
console.log('| network | page | visit | first contentful paint | hydrated, composer sends | bytes transferred |');
console.log('|---|---|---|---|---|---|');
for (const [netName, network] of [['unthrottled', NONE], ['Fast 3G', FAST_3G]]) {
  for (const [pageName, origin, hydrates] of [['static HTML (floor)', floorBase, false], ['Parlor room page', base, true]]) {
    const results = [];
    for (let i = 0; i < runs; i += 1) results.push(await visit(origin, network, hydrates));
    for (const visitName of ['cold', 'warm']) {
      const r = results.map((x) => x[visitName]);
      console.log(`| ${netName} | ${pageName} | ${visitName} | ${ms(median(r.map((x) => x.fcp)))} | ${hydrates ? ms(median(r.map((x) => x.hydrated))) : 'n/a'} | ${median(r.map((x) => x.bytes))} |`);
    }
  }
}
await browser.close();
floor.close();
