// Screenshots of every page, light and dark, phone and desktop, into end2end/artifacts/
// (screen-<page>-<theme>-<device>.png), to be looked at. The page must also not spill
// sideways on a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, person, open, shot, uniqueName, api, createRoom, PASSWORD, DESKTOP, PHONE, assertNoPageErrors,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

test('every page, light and dark, phone and desktop', async () => {
  // A lived-in account: rooms, a conversation with every kind of message, notifications.
  const ana = await person(browser, 'ana');
  const bob = await person(browser, 'bob');
  const cat = await person(browser, 'cat');
  const room = await createRoom(ana.page, {
    name: 'Board games',
    topic: 'Saturday nights, card games and the occasional tableflip',
    join_policy: 'open',
  }).catch(async () => createRoom(ana.page, { name: uniqueName('Board games '), join_policy: 'open' }));
  await createRoom(ana.page, { name: uniqueName('Book club '), join_policy: 'request' });
  const outside = await createRoom(bob.page, {
    name: uniqueName('Hiking '), topic: 'Routes, boots and weather', join_policy: 'request',
  });
  await api(bob.page, '/api/rooms/join', { room_id: room.id });
  await api(cat.page, '/api/rooms/join', { room_id: room.id });
  const send = (p, body, extra = {}) =>
    api(p, '/api/messages/send', { room_id: room.id, client_id: uniqueName('c'), body, ...extra });
  await send(bob.page, 'Anyone up for Catan on Saturday?');
  await send(ana.page, 'Yes! I can bring snacks. Rules: https://example.org/catan', { color: 'teal' });
  await send(cat.page, 'Count me in.\nI will be a bit late though.');
  await api(cat.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('c'), sticker: 'cat' });
  await send(bob.page, 'A very long word to test wrapping: Donaudampfschifffahrtsgesellschaftskapitänswitwe-and-then-some-more-characters-without-spaces');
  // After sending: an edited message with reactions, a reply to it, formatting, a tombstone.
  const mine = await send(ana.page, 'Snacks: chips and **salsa**');
  await api(ana.page, '/api/messages/edit', { message_id: mine.message.id, body: 'Snacks: chips, **salsa** and `lemonade`' });
  for (const [p, emoji] of [[bob.page, '👍'], [cat.page, '👍'], [bob.page, '🎉']]) {
    await api(p, '/api/messages/react', { message_id: mine.message.id, emoji, on: true });
  }
  await send(bob.page, 'Perfect, thank you!', { reply_to: mine.message.id });
  const gone = await send(cat.page, 'Oops, wrong room');
  await api(cat.page, '/api/messages/delete', { message_id: gone.message.id });
  // Bob has sent his burst: the send rate lets one more through a second.
  await new Promise((r) => setTimeout(r, 3000));
  // Mentions and unread: one in the room (with the "new messages" divider on the first look),
  // and a room ana has not opened, with both badges in the sidebar.
  await send(bob.page, `@${ana.name} can you bring the dice?`);
  const trivia = await createRoom(bob.page, { name: uniqueName('Trivia '), join_policy: 'open' });
  await api(ana.page, '/api/rooms/join', { room_id: trivia.id });
  for (const body of ['Quiz night on Friday?', `@${ana.name} you host this time?`]) {
    await api(bob.page, '/api/messages/send', { room_id: trivia.id, client_id: uniqueName('c'), body });
    await new Promise((r) => setTimeout(r, 1100));
  }
  await api(bob.page, '/api/rooms/invite', { room_id: outside.id, user: ana.name }).catch(() => {});
  await api(cat.page, '/api/rooms/leave', { room_id: room.id });
  const message = `/rooms/${room.id}/messages/${mine.message.id}`;

  const pages = [
    ['home', '/'],
    ['find', `/rooms?q=`],
    ['create', '/rooms/new'],
    ['room', `/rooms/${room.id}`],
    ['leave', `/rooms/${room.id}/leave`],
    ['join', `/rooms/${outside.id}`],
    ['notifications', '/notifications'],
    ['admin', `/rooms/${room.id}/admin`],
    ['reply', `/rooms/${room.id}?reply=${mine.message.id}`],
    ['message-edit', `${message}/edit`],
    ['message-delete', `${message}/delete`],
    ['message-versions', `${message}/versions`],
    ['message-react', `${message}/react`],
    ['not-found', '/no/such/page'],
  ];
  for (const colorScheme of ['light', 'dark']) {
    for (const [device, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const guest = await newPage(browser, { viewport, colorScheme });
      for (const path of ['/login', '/signup']) {
        await open(guest, path);
        await shot(guest, `screen-${path.slice(1)}-${colorScheme}-${device}`);
      }
      await guest.context().close();

      const page = await newPage(browser, { viewport, colorScheme });
      await api(page, '/api/auth/login', { username: ana.name, password: PASSWORD });
      for (const [name, path] of pages) {
        await open(page, path);
        if (name === 'room') {
          await page.getByRole('log').getByText('Count me in.').waitFor();
          if (device === 'desktop') await page.locator('#online-heading', { hasText: /[1-9]/ }).waitFor();
        }
        await page.waitForTimeout(150);
        await shot(page, `screen-${name}-${colorScheme}-${device}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name} (${device}, ${colorScheme}) is ${overflow}px too wide`);
      }
      // The bell's panel, open.
      await open(page, `/rooms/${room.id}`);
      if (device === 'phone') await page.getByRole('button', { name: 'Open the room list' }).click();
      await page.getByRole('button', { name: /^Notifications/ }).click();
      await page.getByRole('region', { name: 'Notifications' }).waitFor();
      await shot(page, `screen-bell-${colorScheme}-${device}`);
      await page.context().close();
    }
  }
  for (const p of [ana, bob, cat]) await p.page.context().close();
});
