// A 375 px phone: the room list is a drawer that opens from the menu button, switching rooms
// closes it, and the composer sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, open, shot, uniqueName, api, createRoom, say, seeMessage, log, PHONE, assertNoPageErrors,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

test('on a phone the drawer opens, switches rooms, and the composer sends', async () => {
  const a = await person(browser, 'ana', { viewport: PHONE });
  const first = await createRoom(a.page, { name: uniqueName('Pocket'), join_policy: 'open' });
  const second = await createRoom(a.page, { name: uniqueName('Purse'), join_policy: 'open' });
  await open(a.page, '/');
  const drawer = a.page.getByRole('navigation', { name: 'Rooms' });
  // Closed: off screen, out of the way of the page.
  assert.equal(await drawer.isVisible(), false);
  await a.page.getByRole('button', { name: 'Open the room list' }).click();
  await drawer.getByRole('link', { name: new RegExp(first.name) }).waitFor();
  await shot(a.page, 'phone-drawer');
  await drawer.getByRole('link', { name: new RegExp(first.name) }).click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${first.id}`);
  await drawer.waitFor({ state: 'hidden' });
  await say(a.page, 'sent from a phone');
  await seeMessage(a.page, 'sent from a phone');
  await shot(a.page, 'phone-room');

  // The other room, through the drawer again.
  await a.page.getByRole('button', { name: 'Open the room list' }).click();
  await drawer.getByRole('link', { name: new RegExp(second.name) }).click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${second.id}`);
  await drawer.waitFor({ state: 'hidden' });
  await a.page.getByRole('heading', { name: second.name, exact: true }).waitFor();
  await say(a.page, 'and in the second room');
  await seeMessage(a.page, 'and in the second room');
  // Nothing spills sideways.
  const overflow = await a.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  const stored = await api(a.page, '/api/messages/history', { room_id: first.id });
  assert.ok(stored.messages.some((m) => m.body === 'sent from a phone'));
  await a.page.context().close();
});

test('on a touch screen a long press on a message shows its actions', async () => {
  const a = await person(browser, 'ana', { viewport: PHONE, touch: true });
  const room = await createRoom(a.page, { name: uniqueName('Thumbs'), join_policy: 'open' });
  await open(a.page, `/rooms/${room.id}`);
  await say(a.page, 'hold me down');
  await seeMessage(a.page, 'hold me down');
  const message = log(a.page).locator('.msg', { hasText: 'hold me down' });
  const actions = message.locator('.msg-actions');
  // Out of the way until asked for: a tap is not a long press.
  assert.equal(await actions.isVisible(), false);
  await message.dispatchEvent('touchstart');
  await message.dispatchEvent('touchend');
  assert.equal(await actions.isVisible(), false);
  await message.dispatchEvent('touchstart');
  await actions.waitFor({ state: 'visible' });
  await message.dispatchEvent('touchend');
  await actions.getByRole('link', { name: 'Reply' }).waitFor();
  await shot(a.page, 'phone-long-press');
  await a.page.context().close();
});
