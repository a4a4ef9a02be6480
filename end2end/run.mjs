// Starts the release `parlor` binary on a free port with a fresh SQLite database, waits until
// it answers, runs the browser specs against it with node's test runner, then stops it.
// Usage: node end2end/run.mjs   (after `cargo leptos build --release`)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const binary = join(root, 'target', 'release', 'parlor');
if (!existsSync(binary)) {
  console.error(`${binary} is missing: run \`cargo leptos build --release\` first.`);
  process.exit(2);
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });

const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'parlor-e2e-'));
const base = `http://127.0.0.1:${port}`;
const server = spawn(
  binary,
  ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir,
   '--database-url', `sqlite://${join(dataDir, 'parlor.db')}?mode=rwc`,
   // The specs sign many people up from one address; the send limit keeps its default.
   '--auth-rate-burst', '1000'],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } },
);

const stop = () => {
  if (server.exitCode === null) server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', stop);

// cargo-leptos and this script both start tests right after spawning: wait for an answer.
const deadline = Date.now() + 30_000;
for (;;) {
  try {
    const res = await fetch(`${base}/readyz`);
    if (res.ok) break;
  } catch { /* not up yet */ }
  if (server.exitCode !== null || Date.now() > deadline) {
    console.error('parlor did not start');
    process.exit(2);
  }
  await new Promise((r) => setTimeout(r, 200));
}

const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', join(here, 'tests')], {
  stdio: 'inherit',
  // Specs that stop and start a server of their own use the same binary and site.
  env: { ...process.env, PARLOR_BASE_URL: base, PARLOR_BIN: binary, PARLOR_SITE_ROOT: join(root, 'target', 'site') },
});
const code = await new Promise((resolve) => tests.on('exit', (c) => resolve(c ?? 1)));
stop();
process.exit(code);
