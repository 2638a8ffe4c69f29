// CSRF in a real browser: forms that did not come from the portal's own page in the same
// session are refused with a readable 403 page, and nothing changes: a form built in the
// page without the token, a form posted from another origin (even with the right token),
// and a scripted post with a foreign Origin.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, startServer } from './lib/index.mjs';
import { UI, newContext, requestStatus, systemUser, testLogin, text, vendorRequest } from './lib/portal.mjs';

/** A page on another origin (another port) that posts `fields` to `action` when opened. */
async function attackerSite(action, fields) {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      '<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>' +
        `<form method="post" action="${action}">${inputs}<button>Claim</button></form>` +
        '<script>document.forms[0].submit()</script></body></html>',
    );
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

async function assertRefused(page, response, label) {
  assert.equal(response.status(), 403, `${label}: ${response.status()}`);
  await page.getByRole('heading', { level: 1, name: text('error.csrf.title') }).waitFor();
  await page.getByRole('alert').getByText(text('error.csrf.text')).waitFor();
  await checkA11y(page, { label });
}

describe('CSRF', { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('forged form posts are refused with the readable 403 page and change nothing', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    let attacker;
    try {
      const request = await vendorRequest(server, { redirectUrl: null });
      const page = await context.newPage();
      await testLogin(page, server, 'Pia Rørlegger', request.confirmUrl.slice(server.url.length));
      await page.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      const token = await page.locator('form[action$="/request/approve"] input[name="csrf"]').inputValue();
      assert.match(token, /^[0-9a-f]{64}$/);
      const approve = `${server.url}${UI}/systemuser/request/approve`;

      // 1. A form built in the page, without the token.
      const [withoutToken] = await Promise.all([
        page.waitForNavigation(),
        page.evaluate(
          ([action, id]) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = action;
            const field = document.createElement('input');
            field.type = 'hidden';
            field.name = 'id';
            field.value = id;
            form.append(field);
            document.body.append(form);
            form.submit();
          },
          [approve, request.id],
        ),
      ]);
      await assertRefused(page, withoutToken, 'CSRF page (form without token)');

      // 2. A wrong token.
      await page.goto(request.confirmUrl);
      const [wrongToken] = await Promise.all([
        page.waitForNavigation(),
        page.evaluate(() => {
          const input = document.querySelector('form[action$="/request/approve"] input[name="csrf"]');
          input.value = '0'.repeat(64);
          input.form.submit();
        }),
      ]);
      await assertRefused(page, wrongToken, 'CSRF page (wrong token)');

      // 3. Another origin's page posting the form, even with the right token.
      attacker = await attackerSite(approve, { csrf: token, id: request.id });
      const [crossOrigin] = await Promise.all([
        page.waitForResponse((r) => r.url() === approve),
        page.goto(attacker.url),
      ]);
      await page.waitForURL(approve);
      await assertRefused(page, crossOrigin, 'CSRF page (cross-origin form)');

      // 4. A scripted post with a foreign Origin header (the browser's cookies sent along).
      const scripted = await page.request.post(approve, {
        headers: { Origin: 'https://evil.example' },
        form: { csrf: token, id: request.id },
        maxRedirects: 0,
      });
      assert.equal(scripted.status(), 403);
      assert.match(await scripted.text(), new RegExp(text('error.csrf.title')));

      // Nothing changed: the request is still open, no system user, Pia still logged in.
      assert.equal(await requestStatus(server, request.id), 'New');
      assert.equal(await systemUser(server), null);
      await page.goto(request.confirmUrl);
      await page.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      assert.equal(await page.getByRole('button', { name: text('request.approve'), exact: true }).count(), 1);

      // Logout is a form too: a forged one does not log her out.
      const forgedLogout = await page.request.post(`${server.url}${UI}/logout`, {
        form: { csrf: '0'.repeat(64) },
        maxRedirects: 0,
      });
      assert.equal(forgedLogout.status(), 403);
      await page.reload();
      assert.match(await page.locator('header').innerText(), /Pia Rørlegger/);

      // With the page's own form, approving works.
      await page.getByRole('button', { name: text('request.approve'), exact: true }).click();
      await page.getByRole('heading', { level: 1, name: text('receipt.approved.title') }).waitFor();
      await checkA11y(page, { label: 'receipt' });
      assert.equal(await requestStatus(server, request.id), 'Accepted');
    } finally {
      await attacker?.close();
      await context.close();
      await server.stop();
    }
  });
});
