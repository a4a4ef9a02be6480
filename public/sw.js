// Parlor's service worker. It keeps a small offline page and the app's static files, so a
// navigation while the server cannot be reached shows a page that says so (and comes back
// by itself) instead of the browser's error. Everything else — the API, files, the live
// channel — always goes to the server: it never serves a stale answer.
//
// The server fills in VERSION from the files it serves, so each release installs a new
// worker, and the new worker deletes the old cache. It fills in ASSETS with the client's
// files (the stylesheet, the script, the WebAssembly, and the parts of it that pages load
// lazily, with their loader), whose names carry content hashes in a release build
// (IMMUTABLE): a cached copy is then always right, and a second visit fetches none of them.
// Installing fetches the lazy parts too, after the page has loaded: that is their prefetch.
const VERSION = '__PARLOR_VERSION__';
const ASSETS = ['__PARLOR_ASSETS__'];
const IMMUTABLE = '__PARLOR_IMMUTABLE__';
const CACHE = `parlor-${VERSION}`;
const OFFLINE = '/offline.html';
// The offline page needs these; the worker installs only once it has them.
const OFFLINE_PAGE = [OFFLINE, '/offline.css', '/offline.js', '/favicon.svg'];
const SHELL = [...OFFLINE_PAGE, ...ASSETS];
// Plain names must come from the server; a hashed one may come from the HTTP cache, which
// the page's own load has just filled, so installing downloads nothing twice.
const fresh = (path) => new Request(path, { cache: IMMUTABLE && ASSETS.includes(path) ? 'default' : 'reload' });

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(OFFLINE_PAGE.map(fresh)).then(() => cache))
      // The app's bundle is kept too when it can be had, but a failed fetch of it (a
      // dropped connection mid-download) must not keep the offline page from installing.
      .then((cache) => Promise.all(SHELL.slice(OFFLINE_PAGE.length)
        .map((path) => cache.add(fresh(path)).catch(() => undefined))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith('parlor-') && key !== CACHE).map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // The network first, always; the offline page only when there is no answer at all.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
    return;
  }
  if (IMMUTABLE && ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
});
