// With JavaScript off, Parlor is a set of plain HTML forms: create a room, find it and join
// it, read its latest messages and send one, each a post that comes back (post-redirect-get).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, open, shot, uniqueName, log, api, createRoom, yourRooms, assertNoPageErrors } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

const noJs = { js: false };

test('without JavaScript: create, find and join, read the history, send', async () => {
  const a = await person(browser, 'ana', noJs);
  const b = await person(browser, 'bob', noJs);
  const name = uniqueName('Plain');

  // Ana creates an open room with the plain form; a refusal comes back beside the field.
  await open(a.page, '/rooms/new', noJs);
  await a.page.getByLabel('Name').fill(' ');
  await a.page.getByRole('radio', { name: /^Open/ }).check();
  await a.page.getByRole('button', { name: 'Create room' }).click();
  await a.page.locator('#field-name-error').getByText(/name/i).waitFor();
  await a.page.getByLabel('Name').fill(name);
  await a.page.getByRole('radio', { name: /^Open/ }).check();
  await a.page.getByRole('button', { name: 'Create room' }).click();
  await a.page.waitForURL((u) => /^\/rooms\/[0-9a-z]{20}$/.test(u.pathname));
  const roomPath = new URL(a.page.url()).pathname;
  // The page says there are no live updates (a <noscript> note: the emulation that turns
  // script off here still parses it as if script ran, so its text is read from the page).
  assert.match(await a.page.content(), /<noscript>.*new messages appear only when you reload/);

  // She writes: the form posts and comes back with the message in the history.
  for (const text of ['first plain message', 'second plain message']) {
    await a.page.getByRole('textbox', { name: 'Message' }).fill(text);
    await a.page.getByRole('button', { name: 'Send' }).click();
    await a.page.waitForURL((u) => u.pathname === roomPath);
    await log(a.page).getByText(text).waitFor();
  }
  // An empty message is refused with the server's sentence, on the same page.
  await a.page.getByRole('button', { name: 'Send' }).click();
  await a.page.getByRole('alert').getByText('Write something before sending.').waitFor();

  // Bob searches with the form and joins from the result.
  await open(b.page, '/rooms', noJs);
  await b.page.getByLabel('Search rooms by name').fill(name);
  await b.page.getByRole('button', { name: 'Search' }).click();
  await b.page.getByRole('button', { name: `Join: #${name}` }).click();
  await b.page.waitForURL((u) => u.pathname === roomPath);
  // The latest page of history is there to read.
  await log(b.page).getByText('first plain message').waitFor();
  await log(b.page).getByText('second plain message').waitFor();
  await b.page.getByRole('textbox', { name: 'Message' }).fill('hello from a plain form');
  await b.page.getByRole('button', { name: 'Send' }).click();
  await log(b.page).getByText('hello from a plain form').waitFor();
  // A sticker is a button of the same form.
  await b.page.locator('summary[aria-label="Stickers"]').click();
  await b.page.getByRole('button', { name: 'Send the fish sticker' }).click();
  await log(b.page).locator('pre.sticker', { hasText: "><(((('>" }).waitFor();
  await shot(b.page, 'nojs-room');

  // No live updates: Ana sees Bob's message when she reloads.
  assert.equal(await log(a.page).getByText('hello from a plain form').count(), 0);
  await a.page.reload();
  await log(a.page).getByText('hello from a plain form').waitFor();
  // Reloading the page that a post redirected to sends nothing twice.
  assert.equal(await log(a.page).getByText('second plain message').count(), 1);
  for (const p of [a, b]) await p.page.context().close();
});

test('without JavaScript: edit and delete a message through their pages', async () => {
  const a = await person(browser, 'ana', noJs);
  const name = uniqueName('Plain edits');
  await open(a.page, '/rooms/new', noJs);
  await a.page.getByLabel('Name').fill(name);
  await a.page.getByRole('radio', { name: /^Open/ }).check();
  await a.page.getByRole('button', { name: 'Create room' }).click();
  await a.page.waitForURL((u) => /^\/rooms\/[0-9a-z]{20}$/.test(u.pathname));
  const roomPath = new URL(a.page.url()).pathname;
  await a.page.getByRole('textbox', { name: 'Message' }).fill('plain typo hree');
  await a.page.getByRole('button', { name: 'Send' }).click();
  await log(a.page).getByText('plain typo hree').waitFor();

  // Edit is a link to a page with a form; an empty text is refused there, a good one lands
  // back on the message.
  // A message's actions show when the pointer is on it (CSS alone, no script needed).
  const typo = log(a.page).locator('.msg', { hasText: 'plain typo hree' });
  await typo.hover();
  await typo.getByRole('link', { name: 'Edit' }).click();
  await a.page.waitForURL((u) => /\/messages\/\d+\/edit$/.test(u.pathname));
  const editor = a.page.getByRole('dialog', { name: 'Edit message' }).getByLabel('Message', { exact: true });
  await editor.fill(' ');
  await a.page.getByRole('button', { name: 'Save' }).click();
  await a.page.getByRole('alert').getByText('Write something before sending.').waitFor();
  await editor.fill('plain typo here');
  await a.page.getByRole('button', { name: 'Save' }).click();
  await a.page.waitForURL((u) => u.pathname === roomPath);
  const edited = log(a.page).locator('.msg', { hasText: 'plain typo here' });
  await edited.locator('.edited').waitFor();

  // Delete asks first, on its own page.
  await edited.hover();
  await edited.getByRole('link', { name: 'Delete' }).click();
  await a.page.getByText('It is removed for everyone').waitFor();
  await shot(a.page, 'nojs-message-delete');
  await a.page.getByRole('button', { name: 'Delete message' }).click();
  await a.page.waitForURL((u) => u.pathname === roomPath);
  await log(a.page).locator('.tombstone', { hasText: 'Message deleted' }).waitFor();
  assert.equal(await log(a.page).getByText('plain typo here').count(), 0);

  // A reply: the Reply link puts the quote over the composer, and the post answers it.
  await a.page.getByRole('textbox', { name: 'Message' }).fill('plain question');
  await a.page.getByRole('button', { name: 'Send' }).click();
  const question = log(a.page).locator('.msg', { hasText: 'plain question' });
  await question.waitFor();
  await question.hover();
  await question.getByRole('link', { name: 'Reply' }).click();
  await a.page.locator('.reply-bar', { hasText: 'plain question' }).waitFor();
  await a.page.getByRole('textbox', { name: 'Message' }).fill('plain answer');
  await a.page.getByRole('button', { name: 'Send' }).click();
  await log(a.page).locator('.msg', { hasText: 'plain answer' }).locator('.reply-quote', { hasText: 'plain question' }).waitFor();
  // A reaction is a button of a small form.
  const asked = log(a.page).locator('.msg', { hasText: 'plain question' }).first();
  await asked.hover();
  await asked.getByRole('button', { name: 'React with 👍' }).click();
  await log(a.page).locator('.reaction', { hasText: '👍' }).waitFor();
  await a.page.context().close();
});

test('without JavaScript: a mention is marked, the divider shows where I stopped, and a button marks the room read', async () => {
  const a = await person(browser, 'ana', noJs);
  const b = await person(browser, 'bob', noJs);
  const room = await createRoom(a.page, { name: uniqueName('Plain calls'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`, noJs);
  await a.page.getByRole('textbox', { name: 'Message' }).fill(`@${b.name} plain ping`);
  await a.page.getByRole('button', { name: 'Send' }).click();
  await log(a.page).locator('.mention', { hasText: `@${b.name}` }).waitFor();

  await open(b.page, '/', noJs);
  const link = yourRooms(b.page).getByRole('link', { name: new RegExp(room.name) });
  await link.getByLabel('1 mention').waitFor();
  await open(b.page, `/rooms/${room.id}`, noJs);
  const divider = log(b.page).getByRole('separator', { name: 'New messages' });
  await divider.waitFor();
  await log(b.page).locator('.msg.mentions-me', { hasText: 'plain ping' }).waitFor();
  await shot(b.page, 'nojs-new-messages');
  await divider.getByRole('button', { name: 'Mark as read' }).click();
  await b.page.waitForURL((u) => u.pathname === `/rooms/${room.id}`);
  await log(b.page).locator('.msg', { hasText: 'plain ping' }).waitFor();
  assert.equal(await log(b.page).getByRole('separator', { name: 'New messages' }).count(), 0);
  assert.equal(await yourRooms(b.page).getByRole('link', { name: new RegExp(room.name) }).locator('.badge').count(), 0);
  for (const p of [a, b]) await p.page.context().close();
});
