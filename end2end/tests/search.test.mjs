// Message search (docs/RULES.md, "Search"): the shell's box (`/` focuses it), the results
// with their matches marked, a hit opening its room at the message with the messages around
// it, and the gap below that fills as the reader scrolls down; the same with JavaScript off,
// through GET forms and links.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, open, shot, uniqueName, log, api, createRoom, PASSWORD, BASE, assertNoPageErrors } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

/// `n` messages from helpers who join `room` (five each: the send limit's burst), so that a
/// message said before them is far from the latest page.
async function fill(room, n, word) {
  const helpers = [];
  for (let h = 0; h * 5 < n; h++) {
    const context = await browser.newContext({ baseURL: BASE });
    const request = context.request;
    const post = async (path, data) => {
      const res = await request.post(path, { data });
      assert.ok(res.ok(), `${path}: ${await res.text()}`);
      return res.json();
    };
    await post('/api/auth/signup', { username: uniqueName('fill'), password: PASSWORD });
    await post('/api/rooms/join', { room_id: room.id });
    helpers.push({ context, post });
  }
  let sent = 0;
  for (const [h, helper] of helpers.entries()) {
    for (let i = 0; i < 5 && sent < n; i++, sent++) {
      await helper.post('/api/messages/send', { room_id: room.id, client_id: `f${h}-${i}`, body: `${word} ${sent}` });
    }
  }
  for (const { context } of helpers) await context.close();
}

test('search: / focuses the box, hits are marked, a hit opens its room at the message and the rest loads as you scroll', async () => {
  const a = await person(browser, 'ana');
  const room = await createRoom(a.page, { name: uniqueName('Find'), join_policy: 'open' });
  const { message: target } = await api(a.page, '/api/messages/send', { room_id: room.id, client_id: 'needle', body: 'the Quartz needle is here' });
  await fill(room, 80, 'filler');

  // `/` anywhere but a field goes to the shell's search box.
  await open(a.page, '/');
  await a.page.keyboard.press('/');
  const box = a.page.getByRole('searchbox', { name: 'Search messages' });
  assert.equal(await box.evaluate((el) => el === document.activeElement), true);
  await box.fill('quartz');
  await box.press('Enter');
  await a.page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === 'quartz');
  const hits = a.page.getByRole('list', { name: 'Messages found' });
  await hits.getByRole('link').first().waitFor();
  assert.equal(await hits.getByRole('listitem').count(), 1);
  // The match is marked, in the text's own case; the rest is plain text.
  assert.equal(await hits.locator('mark').first().textContent(), 'Quartz');
  await shot(a.page, 'search-results');

  // A hit opens the room at the message, marked, with the messages around it.
  await hits.getByRole('link').first().click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}` && u.searchParams.get('around') === target.id);
  const focused = log(a.page).locator(`#m${target.id}`);
  await focused.waitFor();
  await a.page.waitForFunction((id) => document.getElementById(`m${id}`)?.classList.contains('focused'), target.id);
  await log(a.page).getByText('filler 5', { exact: true }).waitFor();
  // Between these and the latest messages is a gap, which loads as the reader scrolls down.
  const gap = log(a.page).locator('#timeline-gap');
  await gap.waitFor();
  await shot(a.page, 'search-hit-in-room');
  for (let i = 0; i < 20 && (await gap.count()) > 0; i++) {
    await log(a.page).evaluate((el) => { el.scrollTop += 600; });
    await a.page.waitForTimeout(150);
  }
  assert.equal(await gap.count(), 0, 'the gap closed');
  // Every message is there once, in order, the newest at the end.
  const bodies = await log(a.page).locator('.msg:not(.pending) .msg-body').allTextContents();
  const fillers = bodies.filter((b) => b.startsWith('filler '));
  assert.deepEqual(fillers, Array.from({ length: 80 }, (_, i) => `filler ${i}`));

  // The room header's Search searches this room; a query that cannot run says what to fix.
  await a.page.getByRole('link', { name: `Search messages in #${room.name}` }).click();
  await a.page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('room') === room.id);
  const inRoom = a.page.getByRole('searchbox', { name: 'Search for' });
  await inRoom.fill('"the quartz');
  await inRoom.press('Enter');
  await a.page.getByRole('alert').getByText(/A quote is not closed/).waitFor();
  await inRoom.fill('filler 7');
  await inRoom.press('Enter');
  await hits.getByRole('link').first().waitFor();
  assert.match(await a.page.locator('.search-scope').textContent(), new RegExp(`In #${room.name}`));
  await a.page.context().close();
});

test('without JavaScript: search with the GET form, page on, and open a hit at its message', async () => {
  const noJs = { js: false };
  const b = await person(browser, 'bea', noJs);
  const room = await createRoom(b.page, { name: uniqueName('Plain find'), join_policy: 'open' });
  const { message: target } = await api(b.page, '/api/messages/send', { room_id: room.id, client_id: 'old', body: 'an old Crème brûlée recipe' });
  await fill(room, 80, 'later');

  await open(b.page, '/', noJs);
  await b.page.getByRole('searchbox', { name: 'Search messages' }).fill('creme');
  await b.page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
  await b.page.waitForURL((u) => u.pathname === '/search');
  const hits = b.page.getByRole('list', { name: 'Messages found' });
  assert.equal(await hits.locator('mark').first().textContent(), 'Crème');
  assert.equal(await b.page.getByRole('searchbox', { name: 'Search for' }).inputValue(), 'creme');
  await shot(b.page, 'nojs-search-results');
  await hits.getByRole('link').first().click();
  await b.page.waitForURL((u) => u.pathname === `/rooms/${room.id}`);
  // The address's #m… marks the message; the gap is a link further on.
  assert.equal(await b.page.evaluate(() => document.querySelector(':target')?.id), `m${target.id}`);
  await log(b.page).getByRole('link', { name: 'Newer messages' }).waitFor();
  await log(b.page).getByText('later 5', { exact: true }).waitFor();
  assert.equal(await log(b.page).getByText('later 20', { exact: true }).count(), 0, 'past the window: in the gap');

  // Results page with links: 80 hits are four pages of 20.
  await open(b.page, '/search?q=later', noJs);
  assert.equal(await hits.getByRole('listitem').count(), 20);
  await b.page.getByRole('link', { name: 'Next results' }).click();
  await b.page.waitForURL((u) => u.searchParams.has('cursor'));
  assert.equal(await hits.getByRole('listitem').count(), 20);
  await b.page.getByRole('link', { name: 'Back to the first results' }).waitFor();
  await b.page.context().close();
});
