// The chat client with JavaScript on, several people as several browser contexts: joining by
// request and moderation, invites, succession and termination, message content, the send
// rate limit. Everything a person sees here arrives live, without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, open, shot, uniqueName, api, createRoom, log, composer, yourRooms, say,
  seeMessage, countMessages, assertNoPageErrors,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

const bell = (page) => page.getByRole('button', { name: /^Notifications/ });

test('a request, an approval from the notification, live chat, a kick with a reason, a ban', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const name = uniqueName('Games');

  // Ana creates a request-only room from the page.
  await open(a.page, '/rooms/new');
  await a.page.getByLabel('Name').fill(name);
  await a.page.getByLabel(/^Topic/).fill('Board games and the odd tableflip');
  await a.page.getByLabel(/By request/).check();
  await a.page.getByRole('button', { name: 'Create room' }).click();
  await a.page.waitForURL((u) => /^\/rooms\/[0-9a-z]{20}$/.test(u.pathname));
  const roomPath = new URL(a.page.url()).pathname;
  await a.page.getByRole('heading', { name, exact: true }).waitFor();
  await yourRooms(a.page).getByRole('link', { name: new RegExp(name) }).waitFor();

  // Bob finds it by typing, and asks to join.
  await open(b.page, '/rooms');
  await b.page.getByLabel('Search rooms by name').fill(name.slice(0, -2));
  await b.page.waitForURL((u) => u.searchParams.get('q') === name.slice(0, -2));
  const ask = b.page.getByRole('button', { name: `Ask to join: #${name}` });
  await ask.click();
  await b.page.waitForURL((u) => u.pathname === roomPath);
  await b.page.getByText('You asked to join').waitFor();

  // Ana hears of it live, and approves from the notification.
  await bell(a.page).getByText('1').waitFor();
  await bell(a.page).click();
  const request = a.page.getByRole('listitem').filter({ hasText: `${b.name} asks to join #${name}.` });
  await request.getByRole('button', { name: 'Approve' }).click();
  await request.getByText('Answered.').waitFor();
  await a.page.keyboard.press('Escape');

  // Bob is let in where he stands, and they talk both ways without a reload.
  await composer(b.page).waitFor();
  await yourRooms(b.page).getByRole('link', { name: new RegExp(name) }).waitFor();
  await say(b.page, 'hello ana');
  await seeMessage(a.page, 'hello ana');
  await say(a.page, 'welcome, bob');
  await seeMessage(b.page, 'welcome, bob');
  await shot(b.page, 'chat-member');

  // Ana removes Bob with a reason; Bob is told why, in words.
  await a.page.getByRole('button', { name: `Remove ${b.name} from the room` }).click();
  const dialog = a.page.getByRole('dialog', { name: `Remove ${b.name}?` });
  await dialog.getByLabel(/^Reason/).fill('spamming');
  await dialog.getByRole('button', { name: `Remove ${b.name}` }).click();
  await dialog.waitFor({ state: 'detached' });
  const told = `You were removed from #${name} by ${a.name}: spamming`;
  await b.page.locator('.ended-sentence', { hasText: told }).waitFor();
  await b.page.locator('.notice', { hasText: told }).waitFor();
  await shot(b.page, 'chat-kicked');
  // The room leaves his sidebar and waits under "Previous rooms".
  await yourRooms(b.page).getByRole('link', { name: new RegExp(name) }).waitFor({ state: 'detached' });
  const previous = b.page.locator('.previous');
  await previous.getByText(name).waitFor({ state: 'attached' });
  assert.equal(await composer(b.page).count(), 0, 'no composer in a room he left');

  // He asks again, from the room's page.
  await b.page.getByRole('button', { name: 'Ask to join again' }).click();
  await b.page.getByText('You asked to join').waitFor();

  // Ana bans him from the admin pages (he is only asking: a ban needs no membership) ...
  await a.page.getByRole('link', { name: /^Manage the room/ }).click();
  const bans = a.page.getByRole('region', { name: 'Banned' });
  await bans.getByLabel('Ban someone who is not a member').fill(b.name);
  await bans.getByLabel('Reason').fill('enough');
  await bans.getByRole('button', { name: 'Ban', exact: true }).click();
  await bans.getByRole('button', { name: `Unban ${b.name}` }).waitFor();
  // ... and the room is gone from his search.
  await open(b.page, `/rooms?q=${encodeURIComponent(name)}`);
  await b.page.getByText(`No room's name contains`).waitFor();
  assert.equal(await b.page.getByRole('link', { name: `#${name}` }).count(), 0);

  await a.page.context().close();
  await b.page.context().close();
});

test('invites by username and by id are accepted from the notification; join by id needs one', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const c = await person(browser, 'cat');
  const room = await createRoom(a.page, { name: uniqueName('Private'), join_policy: 'invite' });

  // Without an invite, "Join by id" answers with the server's sentence.
  await open(c.page, '/rooms');
  await c.page.getByLabel('Room id').fill(room.id);
  await c.page.getByRole('button', { name: 'Join', exact: true }).click();
  await c.page.locator('#field-room_id-error').getByText('There is no such room').waitFor();
  await shot(c.page, 'join-by-id-refused');

  // Ana invites Bob by username and Cat by id.
  await api(a.page, '/api/rooms/invite', { room_id: room.id, user: b.name });
  await api(a.page, '/api/rooms/invite', { room_id: room.id, user: c.user.id });

  for (const who of [b, c]) {
    await bell(who.page).getByText('1').waitFor();
    await bell(who.page).click();
    const invite = who.page.getByRole('listitem').filter({ hasText: `${a.name} invited you to #${room.name}.` });
    await invite.getByRole('button', { name: 'Accept' }).click();
    await who.page.waitForURL((u) => u.pathname === `/rooms/${room.id}`);
    await composer(who.page).waitFor();
    await yourRooms(who.page).getByRole('link', { name: new RegExp(room.name) }).waitFor();
  }
  await say(b.page, 'in by name');
  await seeMessage(c.page, 'in by name');
  await say(c.page, 'in by id');
  await seeMessage(b.page, 'in by id');
  for (const p of [a, b, c]) await p.page.context().close();
});

test('the admin leaves: the earliest joiner becomes admin live; the last one left is told the room ended', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const c = await person(browser, 'cat');
  const room = await createRoom(a.page, { name: uniqueName('Club'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await api(c.page, '/api/rooms/join', { room_id: room.id });
  for (const p of [a, b, c]) await open(p.page, `/rooms/${room.id}`);
  // Bob sees no moderation yet.
  assert.equal(await b.page.getByRole('button', { name: `Remove ${c.name} from the room` }).count(), 0);

  // Ana leaves; the dialog says what will happen, from the room rules.
  await a.page.getByRole('link', { name: 'Leave' }).click();
  const dialog = a.page.getByRole('dialog', { name: `Leave #${room.name}?` });
  await dialog.getByText(`${b.name} becomes admin`).waitFor();
  await shot(a.page, 'leave-dialog');
  await dialog.getByRole('button', { name: 'Leave the room' }).click();
  await a.page.waitForURL((u) => u.pathname === '/');

  // Bob, the earliest joiner left, gets the admin's entry points without a reload.
  await b.page.getByRole('button', { name: `Remove ${c.name} from the room` }).waitFor();
  await b.page.locator('.role-chip', { hasText: 'Owner' }).waitFor();
  await b.page.locator('.notice', { hasText: 'You are now an admin' }).first().waitFor();

  // Bob leaves too: Cat is the last one, not an admin, so the room ends around her.
  await b.page.getByRole('link', { name: 'Leave' }).click();
  await b.page.getByRole('dialog').getByText(`${c.name} is the only other member: the room will be terminated`).waitFor();
  await b.page.getByRole('dialog').getByRole('button', { name: 'Leave the room' }).click();
  await c.page.locator('.ended-sentence', { hasText: `#${room.name} was terminated` }).waitFor();
  await c.page.locator('.notice', { hasText: `#${room.name} was terminated` }).first().waitFor();
  await yourRooms(c.page).getByRole('link', { name: new RegExp(room.name) }).waitFor({ state: 'detached' });
  await shot(c.page, 'room-terminated');
  for (const p of [a, b, c]) await p.page.context().close();
});

test('stickers, colours and images reach the other person; markup stays text', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const evil = '<img src=x onerror=alert(1)>';
  const room = await createRoom(a.page, { name: `${evil}${uniqueName('')}`, topic: '<script>alert(2)</script>', join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  let dialogs = 0;
  for (const p of [a, b]) p.page.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
  await open(a.page, `/rooms/${room.id}`);
  await open(b.page, `/rooms/${room.id}`);

  // A sticker from the picker, in a monospace block.
  await a.page.locator('summary[aria-label="Stickers"]').click();
  await a.page.getByRole('button', { name: 'Send the shrug sticker' }).click();
  await log(b.page).locator('pre.sticker', { hasText: '¯\\_(ツ)_/¯' }).waitFor();

  // A colour from the palette.
  await a.page.locator('summary[aria-label="Colour"]').click();
  await a.page.getByText('teal', { exact: true }).click();
  await say(a.page, 'in teal');
  await log(b.page).locator('.msg-body.color-teal', { hasText: 'in teal' }).waitFor();

  // An image, uploaded with the attach button, previewed inline.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAHElEQVR4nGP8z4AfMBGQZxhVMKpgVMGoAqoBAEbWAR9qFMQ3AAAAAElFTkSuQmCC',
    'base64',
  );
  await a.page.locator('input[type=file]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  const img = log(b.page).locator('img.preview[alt="dot.png"]');
  await img.waitFor();
  await b.page.waitForFunction(() => [...document.querySelectorAll('img.preview')].some((i) => i.complete && i.naturalWidth === 16));

  // Markup as a message, a room name and a topic shows as typed, and runs nothing.
  await say(a.page, evil);
  await say(a.page, '<script>alert(3)</script>');
  await seeMessage(b.page, '<script>alert(3)</script>');
  assert.equal(await countMessages(b.page, evil), 1);
  await b.page.getByRole('heading', { name: room.name, exact: true }).waitFor();
  await b.page.locator('.room-title .topic', { hasText: '<script>alert(2)</script>' }).waitFor();
  assert.equal(await b.page.locator('.timeline img[src="x"]').count(), 0);
  assert.equal(dialogs, 0, 'no script ran');
  await shot(b.page, 'message-content');
  for (const p of [a, b]) await p.page.context().close();
});

test('edit and delete: the other person sees each change live; Up edits the last message; an admin deletes with a reason; replies, reactions and formatting', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Edits'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`);
  await open(b.page, `/rooms/${room.id}`);
  await say(a.page, 'helo everyone');
  await seeMessage(b.page, 'helo everyone');

  // Ana edits from the message's actions: a dialog over the room, Save, and bob's view
  // changes without a reload, marked "(edited)".
  const mine = log(a.page).locator('.msg', { hasText: 'helo everyone' });
  await mine.hover();
  await mine.getByRole('link', { name: 'Edit' }).click();
  const dialog = a.page.getByRole('dialog', { name: 'Edit message' });
  await dialog.getByLabel('Message').fill('hello everyone');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  const seen = log(b.page).locator('.msg', { hasText: 'hello everyone' });
  await seen.locator('.edited').waitFor();
  assert.equal(await countMessages(b.page, 'helo everyone'), 0);
  // Bob may not edit or delete ana's message: it offers neither.
  await seen.hover();
  assert.equal(await seen.getByRole('link', { name: 'Edit' }).count(), 0);
  assert.equal(await seen.getByRole('link', { name: 'Delete' }).count(), 0);
  // Ana reads the earlier text from "(edited)".
  await log(a.page).locator('.msg', { hasText: 'hello everyone' }).locator('a.edited').click();
  const versions = a.page.getByRole('dialog', { name: 'Earlier versions' });
  await versions.getByText('helo everyone').waitFor();
  await versions.getByRole('link', { name: 'Close' }).click();
  await versions.waitFor({ state: 'detached' });

  // Up in the empty composer opens the edit of her last message; Escape cancels it.
  await say(a.page, 'a second thought');
  await seeMessage(b.page, 'a second thought');
  // Up edits a stored message: wait for ana's own to be acknowledged, not just sent.
  await seeMessage(a.page, 'a second thought');
  await composer(a.page).press('ArrowUp');
  const again = a.page.getByRole('dialog', { name: 'Edit message' });
  await again.getByLabel('Message').waitFor();
  assert.equal(await again.getByLabel('Message').inputValue(), 'a second thought');
  await shot(a.page, 'message-edit');
  await a.page.keyboard.press('Escape');
  await again.waitFor({ state: 'detached' });

  // Ana deletes it: bob sees a tombstone in its place, live.
  const second = log(a.page).locator('.msg', { hasText: 'a second thought' });
  await second.hover();
  await second.getByRole('link', { name: 'Delete' }).click();
  await a.page.getByRole('dialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete message' }).click();
  await log(b.page).locator('.msg.deleted .tombstone', { hasText: 'Message deleted' }).waitFor();
  assert.equal(await countMessages(b.page, 'a second thought'), 0);

  // Bob's message, deleted by ana as the room's owner, with a reason he sees.
  await say(b.page, 'buy cheap watches');
  await seeMessage(a.page, 'buy cheap watches');
  const spam = log(a.page).locator('.msg', { hasText: 'buy cheap watches' });
  await spam.hover();
  await spam.getByRole('link', { name: 'Delete' }).click();
  const confirm = a.page.getByRole('dialog', { name: 'Delete this message?' });
  await confirm.getByLabel(/Reason/).fill('spam');
  await shot(a.page, 'message-delete');
  await confirm.getByRole('button', { name: 'Delete message' }).click();
  await log(b.page).locator('.tombstone', { hasText: /Message deleted by ana.*spam/ }).waitFor();
  await shot(b.page, 'message-tombstones');

  // Bob answers ana's first message: the reply quotes it, live on ana's side.
  const first = log(b.page).locator('.msg', { hasText: 'hello everyone' });
  await first.hover();
  await first.getByRole('link', { name: 'Reply' }).click();
  await b.page.locator('.reply-bar', { hasText: 'hello everyone' }).waitFor();
  await say(b.page, 'hello to you');
  await b.page.locator('.reply-bar').waitFor({ state: 'detached' });
  const reply = log(a.page).locator('.msg', { hasText: 'hello to you' });
  await reply.locator('.reply-quote', { hasText: 'hello everyone' }).waitFor();

  // Reactions: bob's quick 👍 shows on ana's side naming him; ana adds hers from the chip.
  const target = log(b.page).locator('.msg', { hasText: 'hello everyone' }).first();
  await target.hover();
  await target.getByRole('button', { name: 'React with 👍' }).click();
  const chip = log(a.page).locator('.msg', { hasText: 'hello everyone' }).first().locator('.reaction');
  await chip.filter({ hasText: '1' }).waitFor();
  assert.match(await chip.getAttribute('aria-label'), /👍 1: bob/);
  await chip.click();
  await log(b.page).locator('.msg', { hasText: 'hello everyone' }).first()
    .locator('.reaction', { hasText: '2' }).waitFor();
  // And one from the picker.
  await target.hover();
  await target.getByRole('link', { name: 'React' }).click();
  const picker = b.page.getByRole('dialog', { name: 'React' });
  await shot(b.page, 'reaction-picker');
  await picker.getByRole('button', { name: 'React with 🎉' }).click();
  await picker.waitFor({ state: 'detached' });
  await log(a.page).locator('.reaction', { hasText: '🎉' }).waitFor();
  // A little Markdown is formatted.
  await say(b.page, '**strong words** and `some code`');
  await log(a.page).locator('.msg-body.md strong', { hasText: 'strong words' }).waitFor();
  await log(a.page).locator('.msg-body.md code', { hasText: 'some code' }).waitFor();
  await shot(a.page, 'message-replies-reactions');
  for (const p of [a, b]) await p.page.context().close();
});

test('mentions and unread: the @ list, a badge and a notification live, the divider, read in one tab is read in the other', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Calls'), join_policy: 'open' });
  const other = await createRoom(a.page, { name: uniqueName('Else'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await api(b.page, '/api/rooms/join', { room_id: other.id });
  // Bob has two tabs open on the other room; ana writes in the first.
  await open(b.page, `/rooms/${other.id}`);
  const b2 = await b.page.context().newPage();
  await open(b2, `/rooms/${other.id}`);
  await open(a.page, `/rooms/${room.id}`);

  // Typing "@" and the start of bob's name offers him; Enter picks, Enter then sends.
  await composer(a.page).pressSequentially(`hey @${b.name.slice(0, 4)}`);
  const list = a.page.getByRole('listbox', { name: 'Mention someone' });
  await list.getByRole('option', { name: `@${b.name}` }).waitFor();
  await shot(a.page, 'mention-suggestions');
  await composer(a.page).press('Enter');
  await list.waitFor({ state: 'detached' });
  assert.equal(await composer(a.page).inputValue(), `hey @${b.name} `);
  await composer(a.page).pressSequentially('look at this');
  await composer(a.page).press('Enter');
  await seeMessage(a.page, 'look at this');

  // Bob, elsewhere: both tabs' sidebars show the unread count and the mention, live; the
  // bell has the notification, which links to the message.
  for (const page of [b.page, b2]) {
    const link = yourRooms(page).getByRole('link', { name: new RegExp(room.name) });
    await link.getByLabel('1 mention').waitFor();
    await link.getByLabel('1 unread').waitFor();
  }
  await bell(b.page).getByText('1').waitFor();
  await shot(b.page, 'mention-badge');
  await bell(b.page).click();
  const note = b.page.getByRole('listitem').filter({ hasText: `${a.name} mentioned you in #${room.name}.` });
  await note.getByRole('link', { name: 'Open message' }).click();
  await b.page.waitForURL((u) => u.pathname === `/rooms/${room.id}`);

  // In the room: the divider above what is new, the mention marked; reading it to the bottom
  // clears the badges here and in the other tab.
  await log(b.page).getByRole('separator', { name: 'New messages' }).waitFor();
  await log(b.page).locator('.msg.mentions-me .mention', { hasText: `@${b.name}` }).waitFor();
  await shot(b.page, 'mention-in-room');
  for (const page of [b.page, b2]) {
    const link = yourRooms(page).getByRole('link', { name: new RegExp(room.name) });
    await link.locator('.badge').first().waitFor({ state: 'detached' });
  }
  // The server keeps it: a reload of the other tab shows no badge either.
  await open(b2, `/rooms/${other.id}`);
  assert.equal(await yourRooms(b2).getByRole('link', { name: new RegExp(room.name) }).locator('.badge').count(), 0);

  // An admin's @room asks first how many it reaches.
  await say(a.page, '@room we start at noon');
  const confirm = a.page.locator('.room-confirm');
  await confirm.getByText('This notifies 1 person.').waitFor();
  await shot(a.page, 'mention-room-confirm');
  await confirm.getByRole('button', { name: 'Send to everyone' }).click();
  await log(b.page).locator('.msg .mention', { hasText: '@room' }).waitFor();
  for (const p of [a, b]) await p.page.context().close();
});

test('rapid sends hit the rate limit: a countdown in the composer, and the text is kept', async () => {
  const a = await person(browser, 'ana');
  const room = await createRoom(a.page, { name: uniqueName('Fast'), join_policy: 'open' });
  await open(a.page, `/rooms/${room.id}`);
  // The burst is 5 by default; the sixth, sent at once, is refused with the wait.
  for (let i = 1; i <= 7; i++) await say(a.page, `burst ${i}`);
  const status = a.page.locator('#composer-status');
  await status.getByText(/You can send again in \d+ s/).waitFor();
  // The refused texts are back in the composer, not lost.
  await a.page.waitForFunction(() => document.querySelector('#composer-input').value.includes('burst 7'));
  assert.equal(await a.page.getByRole('button', { name: 'Send' }).isDisabled(), true);
  await shot(a.page, 'rate-limited');
  // When the wait is over, the kept text goes out.
  await status.getByText(/You can send again/).waitFor({ state: 'detached', timeout: 10_000 });
  await composer(a.page).press('Enter');
  await seeMessage(a.page, 'burst 7');
  await a.page.context().close();
});

test('older messages load as you scroll up, in place; the jump button and typing show', async () => {
  const a = await person(browser, 'ana');
  const room = await createRoom(a.page, { name: uniqueName('Long'), join_policy: 'open' });
  // 60 messages, more than one page of 50; the send limit allows each person 5 at once.
  const writers = [a];
  for (let i = 0; i < 11; i++) writers.push(await person(browser, 'w'));
  let n = 0;
  for (const w of writers) {
    if (w !== a) await api(w.page, '/api/rooms/join', { room_id: room.id });
    for (let k = 0; k < 5; k++) {
      await api(w.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('h'), body: `history ${n}` });
      n += 1;
    }
  }
  for (const w of writers.slice(1)) await w.page.context().close();
  await open(a.page, `/rooms/${room.id}`);
  await seeMessage(a.page, 'history 59');
  // The first page holds the newest 50 lines; scrolling to the top brings the older ones.
  assert.equal(await countMessages(a.page, 'history 5'), 0);
  const oldest = (await log(a.page).locator('.msg-body').first().textContent()).trim();
  const anchor = log(a.page).locator('.msg', { has: a.page.locator('.msg-body', { hasText: new RegExp(`^${oldest}$`) }) });
  await anchor.waitFor();
  await log(a.page).evaluate((el) => { el.scrollTop = 0; });
  await seeMessage(a.page, 'history 5');
  await log(a.page).getByText('This is the beginning of').waitFor();
  // What was at the top stays where it was: the view did not jump to the oldest message.
  const top = await anchor.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const view = el.closest('[role=log]').getBoundingClientRect();
    return box.top - view.top;
  });
  assert.ok(top >= -5 && top < 200, `the message that was at the top is now ${top}px from it`);

  // Someone else writes while Ana reads old messages: a jump button, not a jump.
  const b = await person(browser, 'bob');
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(b.page, `/rooms/${room.id}`);
  await composer(b.page).pressSequentially('hel');
  await a.page.getByText(`${b.name} is typing…`).waitFor();
  await composer(b.page).press('Enter');
  const jump = a.page.getByRole('button', { name: /New messages/ });
  await jump.waitFor();
  await jump.click();
  await jump.waitFor({ state: 'detached' });
  await log(a.page).getByText('hel', { exact: true }).waitFor();
  for (const p of [a, b]) await p.page.context().close();
});

test('a ninth tab says Parlor is open in too many tabs, stays put, and gets in once a tab closes', async () => {
  const a = await person(browser, 'ana');
  const room = await createRoom(a.page, { name: uniqueName('Tabs'), join_policy: 'open' });
  const path = `/rooms/${room.id}`;
  const online = (page) => page.locator('#online-heading');
  const tabs = [a.page];
  await open(a.page, path);
  await online(a.page).waitFor();
  // Eight tabs is what one account may hold (--ws-per-user); each is live before the next.
  while (tabs.length < 8) {
    const tab = await a.page.context().newPage();
    await open(tab, path);
    await online(tab).waitFor();
    tabs.push(tab);
  }
  const ninth = await a.page.context().newPage();
  await open(ninth, path);
  const tooMany = ninth.getByRole('alert').filter({ hasText: 'Parlor is open in too many tabs' });
  await tooMany.waitFor();
  await shot(ninth, 'too-many-tabs');
  // Not sent to the login page, not signed out: the room is still there, and so is the session.
  assert.equal(new URL(ninth.url()).pathname, path);
  assert.equal(await composer(ninth).isVisible(), true);
  await api(ninth, '/api/auth/me');
  // One tab closes: the ninth connects by itself at its next try.
  await tabs.pop().close();
  await tooMany.waitFor({ state: 'detached', timeout: 45_000 });
  await online(ninth).waitFor();
  await a.page.context().close();
});
