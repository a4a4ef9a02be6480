// Sign up → home → log out → log in, once hydrated and once with JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, open, shot, uniqueName, assertNoPageErrors } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';

  test(`accounts round trip with JavaScript ${js ? 'on' : 'off'}`, async () => {
    const page = await newPage(browser, { js });
    const username = uniqueName(mode);
    const password = 'a long enough password';

    // A bad username: the error sits next to the field and the typed name stays.
    await open(page, '/signup', { js });
    if (js) await page.evaluate(() => { window.__sameDocument = true; });
    await page.fill('#field-username', 'bad name');
    await page.fill('#field-password', password);
    await page.click('button[type=submit]');
    const usernameError = page.locator('#field-username-error');
    await assert.doesNotReject(usernameError.getByText("may use letters, digits").waitFor());
    assert.equal(await page.inputValue('#field-username'), 'bad name');
    await shot(page, `${mode}-signup-error`);

    // A good sign-up lands on the home page, signed in.
    await page.fill('#field-username', username);
    await page.fill('#field-password', password);
    await shot(page, `${mode}-signup`);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByText(`Welcome, ${username}`).waitFor();
    if (js) {
      // Hydrated: the form never left the page; the app routed on the client.
      assert.equal(await page.evaluate(() => window.__sameDocument), true);
    }
    await shot(page, `${mode}-home`);

    // Log out: back to the login page, and home no longer lets us in.
    await page.click('text=Log out');
    await page.waitForURL((url) => url.pathname === '/login');
    await open(page, '/', { js });
    await page.waitForURL((url) => url.pathname === '/login');

    // A wrong password: one general message, the username kept.
    await page.fill('#field-username', username);
    await page.fill('#field-password', 'not the password');
    await page.click('button[type=submit]');
    await page.locator('.form-error').getByText('Invalid username or password.').waitFor();
    assert.equal(await page.inputValue('#field-username'), username);
    await shot(page, `${mode}-login-error`);

    // The right one: home again.
    await page.fill('#field-password', password);
    await shot(page, `${mode}-login`);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByText(`Welcome, ${username}`).waitFor();
    await page.context().close();
  });
}
