// Accessibility: an axe-core scan of every page, light and dark, must find no serious or
// critical violation; and the chat and admin pages work from the keyboard alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import {
  launch, newPage, person, open, uniqueName, api, createRoom, composer, seeMessage, PASSWORD,
  DESKTOP, PHONE, assertNoPageErrors,
} from './browser.mjs';

const require = createRequire(import.meta.url);
// Evaluated through the devtools protocol, which the page's Content-Security-Policy (no
// inline scripts) rightly does not let a <script> tag do.
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

/// Runs axe on the page; returns the serious and critical violations, one line each.
async function scan(page) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3),
    }));
  });
  return violations;
}

test('axe finds no serious or critical violation on any page, light or dark', async (t) => {
  const ana = await person(browser, 'ana');
  const bob = await person(browser, 'bob');
  const room = await createRoom(ana.page, { name: uniqueName('Axe'), topic: 'A room to scan', join_policy: 'open' });
  await api(bob.page, '/api/rooms/join', { room_id: room.id });
  const bobs = [];
  for (const body of ['Hello', 'A link: https://example.org', 'Second line\nof a message']) {
    bobs.push(await api(bob.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('a'), body, color: 'purple' }));
  }
  await api(bob.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('a'), sticker: 'owl' });
  // After sending: an edited, formatted message with reactions, a reply, a tombstone.
  const mine = await api(ana.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('a'), body: 'Mine, to **edit**' });
  const mid = mine.message.id;
  await api(ana.page, '/api/messages/edit', { message_id: mid, body: 'Mine, *edited*, with `code`' });
  await api(bob.page, '/api/messages/react', { message_id: mid, emoji: '👍', on: true });
  await api(bob.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('a'), body: 'A reply', reply_to: mid });
  // An open report, so the admin page's inbox shows one.
  await api(bob.page, '/api/messages/report', { message_id: mid, reason: 'other', text: 'Scanned for contrast' });
  const gone = await api(ana.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('a'), body: 'Soon gone' });
  await api(ana.page, '/api/messages/delete', { message_id: gone.message.id });
  const other = await createRoom(bob.page, { name: uniqueName('Other'), join_policy: 'request' });
  await api(bob.page, '/api/rooms/invite', { room_id: other.id, user: ana.name });

  const pages = [
    ['home', '/'], ['find', '/rooms'], ['create', '/rooms/new'], ['room', `/rooms/${room.id}`],
    ['leave', `/rooms/${room.id}/leave`], ['join', `/rooms/${other.id}`],
    ['notifications', '/notifications'], ['admin', `/rooms/${room.id}/admin`],
    ['kick', `/rooms/${room.id}/admin/kick/${bob.user.id}`], ['not-found', '/nowhere'],
    ['reply', `/rooms/${room.id}?reply=${mid}`], ['message-edit', `/rooms/${room.id}/messages/${mid}/edit`],
    ['message-delete', `/rooms/${room.id}/messages/${mid}/delete`],
    ['message-versions', `/rooms/${room.id}/messages/${mid}/versions`],
    ['message-react', `/rooms/${room.id}/messages/${mid}/react`],
    ['message-report', `/rooms/${room.id}/messages/${bobs[0].message.id}/report`],
  ];
  const failures = [];
  for (const colorScheme of ['light', 'dark']) {
    for (const [device, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const guest = await newPage(browser, { colorScheme, viewport });
      for (const path of ['/login', '/signup']) {
        await open(guest, path);
        const found = await scan(guest);
        t.diagnostic(`${path} ${colorScheme} ${device}: ${found.length} violations (${found.map((v) => `${v.id}:${v.impact}`).join(', ') || 'none'})`);
        failures.push(...found.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => ({ page: path, colorScheme, device, ...v })));
      }
      await guest.context().close();
      const page = await newPage(browser, { colorScheme, viewport });
      await api(page, '/api/auth/login', { username: ana.name, password: PASSWORD });
      for (const [name, path] of pages) {
        await open(page, path);
        if (name === 'room') await seeMessage(page, 'Hello');
        const found = await scan(page);
        t.diagnostic(`${name} ${colorScheme} ${device}: ${found.length} violations (${found.map((v) => `${v.id}:${v.impact}`).join(', ') || 'none'})`);
        failures.push(...found.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => ({ page: name, colorScheme, device, ...v })));
      }
      await page.context().close();
    }
  }
  assert.deepEqual(failures, [], JSON.stringify(failures, null, 1));
  for (const p of [ana, bob]) await p.page.context().close();
});

test('the chat and the admin pages work from the keyboard alone', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Keys'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`);
  const focused = () => a.page.evaluate(() => {
    const el = document.activeElement;
    return `${el.tagName.toLowerCase()}|${el.getAttribute('aria-label') ?? el.textContent.trim().slice(0, 40)}`;
  });

  // The first Tab reaches the skip link, which leads to the room.
  await a.page.keyboard.press('Tab');
  assert.equal(await focused(), 'a|Skip to content');
  // Tab order reaches the composer: type, Enter sends, Shift+Enter breaks the line.
  let steps = 0;
  while (!(await focused()).startsWith('textarea') && steps < 40) {
    await a.page.keyboard.press('Tab');
    steps += 1;
  }
  assert.ok(steps < 40, 'Tab reaches the composer');
  await a.page.keyboard.type('first line');
  await a.page.keyboard.press('Shift+Enter');
  await a.page.keyboard.type('second line');
  await a.page.keyboard.press('Enter');
  await seeMessage(a.page, 'second line');
  assert.equal(await composer(a.page).inputValue(), '');

  // The sticker picker opens and sends from the keyboard.
  await a.page.locator('summary[aria-label="Stickers"]').focus();
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('button', { name: 'Send the owl sticker' }).focus();
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('log').locator('pre.sticker').waitFor();

  // Leave opens a dialog with the focus in it; Esc closes it and gives the focus back.
  await a.page.getByRole('link', { name: 'Leave' }).focus();
  await a.page.keyboard.press('Enter');
  const dialog = a.page.getByRole('dialog');
  await dialog.waitFor();
  await a.page.waitForFunction(() => document.querySelector('[role=dialog]')?.contains(document.activeElement));
  await a.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}`);

  // The notifications panel: Enter opens it, Esc closes it.
  const bell = a.page.getByRole('button', { name: /^Notifications/ });
  await bell.focus();
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('region', { name: 'Notifications' }).waitFor();
  await a.page.keyboard.press('Escape');
  await a.page.getByRole('region', { name: 'Notifications' }).waitFor({ state: 'detached' });

  // The admin pages: reach "Remove" with Tab, confirm with the keyboard, Esc backs out.
  await a.page.getByRole('link', { name: /^Manage the room/ }).focus();
  await a.page.keyboard.press('Enter');
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}/admin`);
  const remove = a.page.getByRole('link', { name: `Remove ${b.name}` });
  steps = 0;
  while ((await focused()) !== `a|Remove ${b.name}` && steps < 80) {
    await a.page.keyboard.press('Tab');
    steps += 1;
  }
  assert.ok(steps < 80, 'Tab reaches Remove');
  await a.page.keyboard.press('Enter');
  const confirm = a.page.getByRole('dialog', { name: `Remove ${b.name}?` });
  await confirm.waitFor();
  await a.page.waitForFunction(() => document.activeElement?.id === 'moderation-reason');
  await a.page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  await remove.waitFor();
  // And for real: Tab to the reason, type, Tab to the button, Enter.
  await remove.focus();
  await a.page.keyboard.press('Enter');
  await confirm.waitFor();
  await a.page.keyboard.type('testing keys');
  steps = 0;
  while ((await focused()) !== `button|Remove ${b.name}` && steps < 10) {
    await a.page.keyboard.press('Tab');
    steps += 1;
  }
  await a.page.keyboard.press('Enter');
  await confirm.waitFor({ state: 'detached' });
  const { members } = await api(a.page, '/api/rooms/members', { room_id: room.id });
  assert.deepEqual(members.map((m) => m.user.username), [a.name]);
  for (const p of [a, b]) await p.page.context().close();
});
