// A room's admin pages: an admin runs the room from them, and the people concerned see each
// change live. Only admins get in; without JavaScript the same pages work as forms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, open, shot, uniqueName, api, createRoom, composer, BASE, assertNoPageErrors,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

const section = (page, name) => page.getByRole('region', { name });
const notice = (page, text) => page.locator('.notice', { hasText: text }).first();

test('an admin runs a room from the pages, and the others see each change live', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const c = await person(browser, 'cat');
  const d = await person(browser, 'dan');
  const room = await createRoom(a.page, { name: uniqueName('Run'), topic: 'before', join_policy: 'request' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await api(c.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}`);
  // The header counts the waiting requests and leads to the admin pages.
  await a.page.getByRole('link', { name: 'Manage the room, 2 requests waiting' }).click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}/admin`);
  await open(b.page, `/rooms/${room.id}`);

  // Requests, oldest first: approve Bob, deny Cat.
  const requests = section(a.page, 'Requests to join');
  assert.deepEqual(await requests.locator('.item-main strong').allTextContents(), [b.name, c.name]);
  await requests.getByRole('button', { name: `Approve ${b.name}` }).click();
  await composer(b.page).waitFor();
  await requests.getByRole('button', { name: `Deny ${c.name}` }).click();
  await notice(c.page, `${a.name} declined your request to join #${room.name}.`).waitFor();
  await requests.getByText('Nobody is waiting.').waitFor();

  // Invite Dan by username, picked from the suggestions.
  const invite = section(a.page, 'Invite someone');
  await invite.getByLabel('Username or user id').fill(d.name.slice(0, 6));
  await a.page.waitForFunction(
    (name) => [...document.querySelectorAll('#invite-suggestions option')].some((o) => o.value === name),
    d.name,
  );
  await invite.getByLabel('Username or user id').fill(d.name);
  await invite.getByRole('button', { name: 'Invite' }).click();
  await notice(d.page, `${a.name} invited you to #${room.name}.`).waitFor();
  await invite.locator('.admin-item', { hasText: d.name }).getByText(/expires in \d+ days/).waitFor();

  // Dan accepts. Settings: a limit below the three members is refused beside the field;
  // a new topic reaches Dan's header as soon as it is saved.
  await api(d.page, '/api/invites/accept', { room_id: room.id });
  await open(d.page, `/rooms/${room.id}`);
  const settings = section(a.page, 'Settings');
  await settings.getByLabel('Topic').fill('after');
  await settings.getByLabel(/^Member limit/).fill('2');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await settings.locator('#settings-max-error').getByText('The room already has 3 members').waitFor();
  await settings.getByLabel(/^Member limit/).fill('');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await d.page.locator('.room-title .topic', { hasText: 'after' }).waitFor();

  // Promote Bob: he gets the admin's entry point; demote him: it goes.
  const members = section(a.page, 'Members');
  await members.getByRole('button', { name: `Make admin: ${b.name}` }).click();
  await b.page.getByRole('link', { name: /^Manage the room/ }).waitFor();
  await members.getByRole('button', { name: `Make member: ${b.name}` }).click();
  await b.page.getByRole('link', { name: /^Manage the room/ }).waitFor({ state: 'detached' });

  // Remove Bob with a reason, after the confirm step says what will happen.
  await members.getByRole('link', { name: `Remove ${b.name}` }).click();
  const kick = a.page.getByRole('dialog', { name: `Remove ${b.name}?` });
  await kick.getByText('leaves the room now and is told why').waitFor();
  await shot(a.page, 'admin-kick-dialog');
  await kick.getByLabel(/^Reason/).fill('off topic');
  await kick.getByRole('button', { name: `Remove ${b.name}` }).click();
  await b.page.locator('.ended-sentence', { hasText: `by ${a.name}: off topic` }).waitFor();

  // Ban him (no longer a member) by name, then lift the ban.
  const bans = section(a.page, 'Banned');
  await bans.getByLabel('Ban someone who is not a member').fill(b.name);
  await bans.getByLabel('Reason').fill('spam');
  await bans.getByRole('button', { name: 'Ban', exact: true }).click();
  await notice(b.page, `You were banned from #${room.name} by ${a.name}: spam`).waitFor();
  await bans.locator('.admin-item', { hasText: b.name }).getByText(`by ${a.name}`).waitFor();
  await bans.getByRole('button', { name: `Unban ${b.name}` }).click();
  await notice(b.page, `${a.name} lifted your ban from #${room.name}.`).waitFor();

  // Hand the room to Dan.
  await members.getByRole('link', { name: `Make owner: ${d.name}` }).click();
  await a.page.getByRole('dialog', { name: `Make ${d.name} the owner?` }).getByRole('button', { name: `Make ${d.name} the owner` }).click();
  await d.page.locator('.role-chip', { hasText: 'Owner' }).waitFor();
  await notice(d.page, `You are now the owner of #${room.name}.`).waitFor();

  // The log tells it all, as sentences, and filters by kind.
  const log = section(a.page, 'Moderation log');
  for (const sentence of [
    `${a.name} approved ${b.name}'s request.`,
    `${a.name} denied ${c.name}'s request.`,
    `${a.name} invited ${d.name}.`,
    `${a.name} made ${b.name} an admin.`,
    `${a.name} made ${b.name} a member again.`,
    `${a.name} removed ${b.name}: off topic`,
    `${a.name} banned ${b.name}: spam`,
    `${a.name} lifted ${b.name}'s ban.`,
    `${a.name} handed the room to ${d.name}.`,
    `${a.name} changed the settings.`,
  ]) {
    await log.getByText(sentence, { exact: true }).waitFor();
  }
  await log.getByLabel('Show').selectOption('banned');
  await a.page.waitForURL((u) => u.searchParams.get('kind') === 'banned');
  await a.page.waitForFunction(() => document.querySelectorAll('#log .log-sentence').length === 1);
  await log.getByText(`${a.name} banned ${b.name}: spam`).waitFor();
  await shot(a.page, 'admin-page');
  for (const p of [a, b, c, d]) await p.page.context().close();
});

test('only admins get in: a member is told so (403), anyone else finds nothing (404)', async () => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const s = await person(browser, 'sam');
  const room = await createRoom(a.page, { name: uniqueName('Gate'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  const member = await b.page.goto(`/rooms/${room.id}/admin`);
  assert.equal(member.status(), 403);
  await b.page.getByRole('heading', { name: 'Only admins can do this' }).waitFor();
  const stranger = await s.page.goto(`/rooms/${room.id}/admin`);
  assert.equal(stranger.status(), 404);
  await s.page.getByText('There is no such room').waitFor();
  await shot(b.page, 'admin-refused');
  for (const p of [a, b, s]) await p.page.context().close();
});

test('without JavaScript: approve, remove with a reason, ban', async () => {
  const noJs = { js: false };
  const a = await person(browser, 'ana', noJs);
  const b = await person(browser, 'bob');
  const c = await person(browser, 'cat');
  const room = await createRoom(a.page, { name: uniqueName('Plain'), join_policy: 'request' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  await api(c.page, '/api/rooms/join', { room_id: room.id });
  await open(a.page, `/rooms/${room.id}/admin`, noJs);
  await section(a.page, 'Requests to join').getByRole('button', { name: `Approve ${b.name}` }).click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}/admin`);
  await section(a.page, 'Members').getByRole('rowheader', { name: b.name }).waitFor();

  // The confirm step is a page of its own.
  await section(a.page, 'Members').getByRole('link', { name: `Remove ${b.name}` }).click();
  await a.page.waitForURL((u) => u.pathname.endsWith(`/kick/${b.user.id}`));
  await a.page.getByRole('dialog').getByLabel(/^Reason/).fill('too loud');
  await a.page.getByRole('button', { name: `Remove ${b.name}` }).click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}/admin`);
  const { members } = await api(a.page, '/api/rooms/members', { room_id: room.id });
  assert.deepEqual(members.map((m) => m.user.username), [a.name]);
  const { notifications } = await api(b.page, '/api/notifications/list', {});
  assert.ok(notifications.some((n) => n.kind === 'kicked' && n.reason === 'too loud'));

  // Ban a requester by name.
  const bans = section(a.page, 'Banned');
  await bans.getByLabel('Ban someone who is not a member').fill(c.name);
  await bans.getByRole('button', { name: 'Ban', exact: true }).click();
  await a.page.waitForURL((u) => u.pathname === `/rooms/${room.id}/admin`);
  await section(a.page, 'Banned').getByRole('button', { name: `Unban ${c.name}` }).waitFor();
  // A refusal comes back with the server's sentence.
  await section(a.page, 'Banned').getByLabel('Ban someone who is not a member').fill('no-such-person-here');
  await section(a.page, 'Banned').getByRole('button', { name: 'Ban', exact: true }).click();
  await a.page.getByText('There is no user with that id or username.').waitFor();
  await shot(a.page, 'admin-nojs');
  for (const p of [a, b, c]) await p.page.context().close();
  assert.ok(BASE);
});
