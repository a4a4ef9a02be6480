// Timeouts, slow mode and reports (docs/RULES.md §5): an admin sets them where they expect to,
// the member concerned sees the wait in the composer, live, before they type, and a report
// reaches the admins' inbox live and is handled there in one step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, open, shot, uniqueName, api, createRoom, composer, say, seeMessage, log,
  newPage, PASSWORD, assertNoPageErrors,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

const status = (page) => page.locator('#composer-status');
const sendButton = (page) => page.getByRole('button', { name: 'Send', exact: true });

test('an admin times a member out from the member list; the member sees the countdown until it is lifted', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Hush'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`);
  await open(b.page, `/rooms/${room.id}`);
  await composer(b.page).waitFor();

  await a.page.getByRole('button', { name: `Time out ${b.name}` }).click();
  const dialog = a.page.getByRole('dialog', { name: `Time out ${b.name}?` });
  await dialog.getByLabel('How long').selectOption('60');
  await dialog.getByLabel(/^Reason/).fill('flooding');
  await dialog.getByRole('button', { name: `Time out ${b.name}` }).click();

  // Bob reads on, but his composer says why it waits and for how long, and counts down.
  await status(b.page).getByText(/You are timed out in this room for another (59 min|1 h)/).waitFor();
  assert.equal(await sendButton(b.page).isDisabled(), true);
  await b.page.locator('.notice', { hasText: `${a.name} timed you out in #${room.name}` }).first().waitFor();
  const first = await status(b.page).textContent();
  await b.page.waitForFunction(
    (before) => document.querySelector('#composer-status')?.textContent !== before,
    first,
    { timeout: 5_000 },
  );
  await shot(b.page, 'moderation-timed-out-composer');
  // A send the server refuses anyway (the API, not the page) changes nothing he typed.
  const refused = await b.page.evaluate(async (roomId) => {
    const r = await fetch('/api/messages/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room_id: roomId, client_id: 'spec-muted', body: 'let me' }),
    });
    return [r.status, (await r.json()).code];
  }, room.id);
  assert.deepEqual(refused, [403, 'muted']);

  // Lifted early: the composer is his again at once.
  await a.page.getByRole('button', { name: `Lift ${b.name}'s timeout` }).click();
  await b.page.waitForFunction(() => !/timed out/.test(document.querySelector('#composer-status')?.textContent ?? ''));
  assert.equal(await sendButton(b.page).isDisabled(), false);
  await say(b.page, 'thanks for lifting it');
  await seeMessage(a.page, 'thanks for lifting it');
  for (const p of [a, b]) await p.page.context().close();
});

test('a timed ban shows in previous rooms with its end, and lifting it opens the way back at once', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Bar'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(b.page, '/');
  await api(a.page, '/api/rooms/ban', { room_id: room.id, user: b.name, minutes: 90, reason: 'cool off' });
  await b.page.locator('.notice', { hasText: `You were banned from #${room.name}` }).first().waitFor();

  // The refreshed overview lists the room with the ban's end and no way back before it.
  const previous = b.page.locator('details.previous');
  await previous.locator('summary').click();
  const item = previous.locator('.previous-item', { hasText: room.name });
  await item.getByText('You were banned').waitFor();
  await item.getByText(/^Until \d{4}-\d\d-\d\d \d\d:\d\d\.$/).waitFor();
  assert.equal(await item.getByRole('button').count(), 0);
  await shot(b.page, 'moderation-previous-room-banned-until');

  // Lifted: the unban notification refreshes the list, and Rejoin works.
  await api(a.page, '/api/rooms/unban', { room_id: room.id, user_id: b.user.id });
  await item.getByRole('button', { name: 'Rejoin' }).click();
  await item.waitFor({ state: 'detached' });
  const mine = await api(b.page, '/api/rooms/mine');
  assert.ok(mine.rooms.some((r) => r.id === room.id), 'a member again');
  for (const p of [a, b]) await p.page.context().close();
});

test('slow mode set on the settings page reaches the member at once and counts down after each message', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Slow'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(b.page, `/rooms/${room.id}`);
  await composer(b.page).waitFor();

  await open(a.page, `/rooms/${room.id}/admin`);
  const settings = a.page.getByRole('region', { name: 'Settings' });
  await settings.getByLabel(/^Slow mode/).selectOption('30');
  await settings.getByRole('button', { name: 'Save settings' }).click();

  // Bob hears of it without reloading, and the room says who turned it on.
  await b.page.locator('.composer-note', { hasText: 'Slow mode: one message every 30 s' }).waitFor();
  await seeMessage(b.page, `${a.name} turned slow mode on: one message every 30 s per member`);
  await say(b.page, 'one message');
  await seeMessage(b.page, 'one message');
  await status(b.page).getByText(/Slow mode: you can send again in (2\d|30) s/).waitFor();
  assert.equal(await sendButton(b.page).isDisabled(), true);
  await shot(b.page, 'moderation-slow-mode-composer');

  // A reload keeps the wait: the page itself says when the next message may go.
  await open(b.page, `/rooms/${room.id}`);
  await status(b.page).getByText(/Slow mode: you can send again in/).waitFor();

  // Turned off: the wait and the note go.
  await settings.getByLabel(/^Slow mode/).selectOption('0');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await b.page.locator('.composer-note').waitFor({ state: 'detached' });
  await b.page.waitForFunction(() => !/Slow mode/.test(document.querySelector('#composer-status')?.textContent ?? ''));
  for (const p of [a, b]) await p.page.context().close();
});

test('without JavaScript a timed-out member is told so on the page, and an admin times out by form', async () => {
  const noJs = { js: false };
  const a = await person(browser, 'ana', noJs);
  const b = await person(browser, 'bob', noJs);
  const room = await createRoom(a.page, { name: uniqueName('Plain'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}/admin`, noJs);
  await a.page.getByRole('link', { name: `Time out ${b.name}` }).click();
  const dialog = a.page.getByRole('dialog', { name: `Time out ${b.name}?` });
  await dialog.getByLabel('How long').selectOption('1440');
  await dialog.getByRole('button', { name: `Time out ${b.name}` }).click();
  await a.page.getByRole('button', { name: `Lift ${b.name}'s timeout` }).waitFor();
  await open(b.page, `/rooms/${room.id}`, noJs);
  await status(b.page).getByText(/You are timed out in this room for another (23 h|1 day)/).waitFor();
  for (const p of [a, b]) await p.page.context().close();
});

test('a member reports a message from its menu; the admin sees it live in the inbox and deletes it in one step', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const c = await person(browser, 'cat');
  const room = await createRoom(a.page, { name: uniqueName('Watch'), join_policy: 'open' });
  for (const p of [b, c]) await api(p.page, '/api/rooms/join', { room_id: room.id });
  const spam = await api(c.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('s'), body: 'cheap watches at example.test' });
  await open(a.page, `/rooms/${room.id}`);
  await open(b.page, `/rooms/${room.id}`);
  await seeMessage(b.page, 'cheap watches');

  // Bob reports it from the message's actions: a reason and a few words.
  const item = log(b.page).locator('.msg', { hasText: 'cheap watches' });
  await item.hover();
  await item.getByRole('link', { name: 'Report' }).click();
  const dialog = b.page.getByRole('dialog', { name: 'Report this message?' });
  await dialog.getByLabel(/^Spam/).check();
  await dialog.getByLabel(/^More/).fill('third time today');
  await shot(b.page, 'reports-dialog');
  await dialog.getByRole('button', { name: 'Report message' }).click();
  await dialog.waitFor({ state: 'detached' });
  await b.page.getByText("Reported. The room's admins will look at it.").waitFor();
  // One report per person per message, whatever the page offers.
  const again = await b.page.request.post('/api/messages/report', { data: { message_id: spam.message.id, reason: 'spam' } });
  assert.equal(again.status(), 409);
  assert.equal((await again.json()).code, 'already_reported');

  // Ana hears of it at once: a badge in the room's header and beside the room in her list.
  const badge = a.page.getByRole('link', { name: '1 open report', exact: true });
  await badge.waitFor();
  await a.page.getByRole('list', { name: 'Your rooms' }).getByLabel('1 open report').waitFor();
  await badge.click();
  const reports = a.page.getByRole('region', { name: 'Reports' });
  await reports.getByText(`Spam, reported by ${b.name}`).waitFor();
  await reports.getByText('third time today').waitFor();
  await reports.locator('.quoted', { hasText: 'cheap watches' }).waitFor();
  await shot(a.page, 'reports-inbox-light');
  const dark = await newPage(browser, { colorScheme: 'dark' });
  await api(dark, '/api/auth/login', { username: a.name, password: PASSWORD });
  await open(dark, `/rooms/${room.id}/admin#inbox`);
  await dark.getByRole('region', { name: 'Reports' }).getByText(`Spam, reported by ${b.name}`).waitFor();
  await shot(dark, 'reports-inbox-dark');
  await dark.context().close();

  // The author is not an admin: the queue is not theirs, and nothing they get names Bob.
  const queue = await c.page.request.post('/api/rooms/reports', { data: { room_id: room.id } });
  assert.equal(queue.status(), 403);
  const mine = await api(c.page, '/api/notifications/list');
  assert.ok(!JSON.stringify(mine).includes(b.name));

  // Delete from the report: the message becomes a tombstone for everyone, the inbox empties
  // and the badges go.
  await reports.getByRole('textbox', { name: /^Reason/ }).fill('no ads here');
  await reports.getByRole('button', { name: `Delete message (${c.name}'s message, reported as spam)` }).click();
  await reports.getByText('No open reports.', { exact: false }).waitFor();
  await log(b.page).locator('.msg', { hasText: 'Message deleted' }).first().waitFor();
  assert.equal(await log(b.page).locator('.msg', { hasText: 'cheap watches' }).count(), 0);
  await a.page.getByRole('link', { name: '1 open report', exact: true }).waitFor({ state: 'detached' });
  await a.page.getByRole('region', { name: 'Moderation log' }).getByText(`${a.name} deleted a message of ${c.name}: no ads here`).waitFor();
  for (const p of [a, b, c]) await p.page.context().close();
});

test('without JavaScript a member reports by its page and an admin dismisses it by form', async () => {
  const noJs = { js: false };
  const a = await person(browser, 'ana', noJs);
  const b = await person(browser, 'bob', noJs);
  const room = await createRoom(a.page, { name: uniqueName('Quiet'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  const said = await api(a.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('q'), body: 'a heated opinion' });
  await open(b.page, `/rooms/${room.id}/messages/${said.message.id}/report`, noJs);
  const dialog = b.page.getByRole('dialog', { name: 'Report this message?' });
  await dialog.getByLabel(/^Harassment/).check();
  await dialog.getByRole('button', { name: 'Report message' }).click();
  await b.page.waitForURL((u) => u.pathname === `/rooms/${room.id}`);

  // The owner's own message: the report reaches her, but never who filed it.
  await open(a.page, `/rooms/${room.id}/admin`, noJs);
  const reports = a.page.getByRole('region', { name: 'Reports' });
  await reports.getByText('Harassment', { exact: true }).waitFor();
  assert.equal(await reports.getByText(b.name).count(), 0);
  await reports.getByRole('button', { name: /^Dismiss/ }).click();
  await a.page.getByRole('region', { name: 'Reports' }).getByText('No open reports.', { exact: false }).waitFor();
  await a.page.getByRole('region', { name: 'Moderation log' }).getByText(`${a.name} dismissed a report on ${a.name}'s message`).waitFor();
  for (const p of [a, b]) await p.page.context().close();
});
