// The account page: change the password (another browser is signed out), log out
// everywhere, delete the account (the room hands on, the messages stay as "deleted user"),
// access tokens (made, told once, used by a script, revoked), once hydrated and once with
// JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, open, shot, person, api, createRoom, PASSWORD, log, uniqueName, eventually, assertNoPageErrors,
  BASE,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

/// `who`'s second browser, signed in through the API.
async function secondBrowser(who, password, js) {
  const page = await newPage(browser, { js });
  await api(page, '/api/auth/login', { username: who.name, password });
  return page;
}

async function signedIn(page) {
  const res = await page.request.post('/api/auth/me', { data: {} });
  return res.ok();
}

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';

  test(`password change, log out everywhere and deletion with JavaScript ${js ? 'on' : 'off'}`, async () => {
    const me = await person(browser, `acct${mode}`, { js });
    const other = await secondBrowser(me, PASSWORD, js);

    // The sidebar's name leads to the account page.
    await open(me.page, '/', { js });
    await me.page.getByRole('link', { name: new RegExp(`${me.name}.*your account`) }).click();
    await me.page.waitForURL((url) => url.pathname === '/account');
    if (js) await me.page.waitForSelector('body[data-hydrated="true"]');
    await me.page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    await me.page.getByText(me.user.id).waitFor();

    // The wrong current password: the error sits beside that field; nothing changed.
    await me.page.fill('#field-current_password', 'not my password at all');
    await me.page.fill('#field-new_password', 'a brand new password');
    await me.page.getByRole('button', { name: 'Change password' }).click();
    await me.page.locator('#field-current_password-error')
      .getByText('That is not your current password.').waitFor();
    await shot(me.page, `${mode}-account-password-error`);
    assert.equal(await signedIn(other), true);

    // The right one: this browser stays in, the other is signed out.
    await me.page.fill('#field-current_password', PASSWORD);
    await me.page.fill('#field-new_password', 'a brand new password');
    await me.page.getByRole('button', { name: 'Change password' }).click();
    await me.page.getByText('Password changed. Your other sessions were signed out.').waitFor();
    await shot(me.page, `${mode}-account-password-changed`);
    assert.equal(await signedIn(me.page), true);
    assert.equal(await signedIn(other), false);
    await other.context().close();

    // Log out everywhere: this browser lands on the login page, and a second one is out too.
    const third = await secondBrowser(me, 'a brand new password', js);
    await me.page.getByRole('button', { name: 'Log out everywhere' }).click();
    // Both the form's answer and the live channel's close send the page to the login page:
    // wait for what the person sees, not for one navigation or the other.
    await me.page.getByRole('heading', { name: 'Log in to Parlor' }).waitFor();
    assert.equal(new URL(me.page.url()).pathname, '/login');
    assert.equal(await signedIn(me.page), false);
    assert.equal(await signedIn(third), false);
    await third.context().close();
    await me.page.context().close();
  });

  test(`an access token is told once, works for a script within its scope and is revoked, with JavaScript ${js ? 'on' : 'off'}`, async () => {
    const me = await person(browser, `tok${mode}`, { js });
    await open(me.page, '/account', { js });
    const section = me.page.locator('#tokens');
    await section.getByText('No tokens yet.').waitFor();
    await me.page.fill('#field-name', `bot ${mode}`);
    await me.page.selectOption('#token-scope', 'read');
    await me.page.getByRole('button', { name: 'Create token' }).click();
    const told = section.getByLabel('The new token');
    await told.waitFor();
    const secret = await told.inputValue();
    assert.match(secret, /^parlor_[0-9a-z]{40}$/);
    const item = section.locator('.token-item', { hasText: `bot ${mode}` });
    await item.getByText('Never used').waitFor();
    await item.getByText('Read', { exact: true }).waitFor();
    await shot(me.page, `${mode}-account-token-made`);

    // A script, with no cookie: it reads as me, and may not write.
    const script = (path, body) => fetch(`${BASE}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify(body),
    });
    const meAsScript = await script('/api/auth/me', {});
    assert.equal(meAsScript.status, 200);
    assert.equal((await meAsScript.json()).user.id, me.user.id);
    const write = await script('/api/rooms/create', { name: uniqueName('Nope') });
    assert.deepEqual([write.status, (await write.json()).code], [403, 'insufficient_scope']);

    // Told once: a fresh load lists it, used now, without the secret.
    await open(me.page, '/account', { js });
    await item.getByText(/Last used/).waitFor();
    assert.equal(await section.getByLabel('The new token').count(), 0);
    assert.equal((await me.page.content()).includes(secret), false);

    await item.getByRole('button', { name: `Revoke bot ${mode}` }).click();
    await section.getByText('No tokens yet.').waitFor();
    assert.equal((await script('/api/auth/me', {})).status, 401);
    await me.page.context().close();
  });

  test(`deleting the account hands its room on with JavaScript ${js ? 'on' : 'off'}`, async () => {
    const owner = await person(browser, `gone${mode}`, { js });
    const stays = await person(browser, `stay${mode}`);
    const third = await person(browser, `third${mode}`);
    const room = await createRoom(owner.page, { name: uniqueName(`Handover ${mode} `), join_policy: 'open' });
    await api(stays.page, '/api/rooms/join', { room_id: room.id });
    await api(third.page, '/api/rooms/join', { room_id: room.id });
    await api(owner.page, '/api/messages/send', { room_id: room.id, client_id: `bye-${mode}`, body: 'my last words' });

    await open(owner.page, '/account', { js });
    await owner.page.fill('#field-password', 'wrong password here');
    await owner.page.getByRole('button', { name: 'Delete my account' }).click();
    await owner.page.locator('#field-password-error').getByText('That is not your current password.').waitFor();
    await owner.page.fill('#field-password', PASSWORD);
    await shot(owner.page, `${mode}-account-delete`);
    await owner.page.getByRole('button', { name: 'Delete my account' }).click();
    await owner.page.getByText('Your account was deleted.').waitFor();
    assert.equal(new URL(owner.page.url()).pathname, '/login');
    assert.equal(await signedIn(owner.page), false);

    // The earliest joiner owns the room now, and the message reads as from "deleted user".
    await open(stays.page, `/rooms/${room.id}`);
    await log(stays.page).locator('.msg', { hasText: 'my last words' }).getByText('deleted user').waitFor();
    // The departure runs just after the sockets close, which may be before this page looks.
    await eventually(async () => (await api(stays.page, '/api/rooms/get', { room_id: room.id })).my_role === 'owner',
      'the earliest joiner owns the room');
    await shot(stays.page, `${mode}-account-deleted-author`);
    for (const p of [owner, stays, third]) await p.page.context().close();
  });
}
