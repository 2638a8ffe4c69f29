// The first journey in a real browser, from the vendor's side to the vendor's side:
// SmartCloud asks Rør og Vann AS for a system user over the API, Pia opens the confirmUrl,
// logs in (the dev test login, and the real OpenID provider), reads what the system will
// get, approves, and lands on SmartCloud's registered redirect URL; the system user exists.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import {
  PIA,
  UI,
  VENDOR_SITE,
  chooseTestPerson,
  here,
  newContext,
  providerLogin,
  requestStatus,
  systemUser,
  text,
  vendorRequest,
  vendorSite,
} from './lib/portal.mjs';

const REDIRECT = `${VENDOR_SITE}/receipt?order=1`;

describe('the first journey', { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Pia approves from the vendor link (test login) and lands on the redirect URL', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      const request = await vendorRequest(server, { redirectUrl: REDIRECT });
      assert.equal(request.status, 'New');
      const page = await context.newPage();
      const vendor = await vendorSite(page);

      // The link leads to the login first (dev mode: the test login), and back.
      await page.goto(request.confirmUrl);
      assert.equal(new URL(page.url()).pathname, `${UI}/login/test`);
      assert.equal(new URL(page.url()).searchParams.get('goto'), request.confirmUrl.slice(server.url.length));
      await page.getByRole('heading', { level: 1, name: text('login.test.title') }).waitFor();
      await checkA11y(page, { label: 'test login' });
      await screenshot(page, 'login');

      await chooseTestPerson(page, 'Pia Rørlegger');
      assert.equal(here(page), request.confirmUrl.slice(server.url.length));
      await page.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      const body = await page.locator('main').innerText();
      assert.match(body, /SmartRegnskap/);
      assert.match(body, /SmartCloud AS/);
      assert.match(body, /Krav og betalinger/);
      assert.match(body, /Rør og Vann AS/);
      assert.doesNotMatch(body, new RegExp(text('missing.heading')), 'Pia lacks nothing');
      await checkA11y(page, { label: 'request approval' });
      await screenshot(page, 'request-approval');

      // Approve: logged out and sent on to SmartCloud's registered redirect URL.
      await Promise.all([
        page.waitForURL(REDIRECT),
        page.getByRole('button', { name: text('request.approve'), exact: true }).click(),
      ]);
      assert.deepEqual(vendor, [REDIRECT]);
      assert.equal(await requestStatus(server, request.id), 'Accepted');
      const user = await systemUser(server);
      assert.ok(user, 'the system user exists');
      assert.equal(user.id, request.id);

      // Logged out: the link asks for a login again; after it, the request says approved.
      await page.goto(request.confirmUrl);
      assert.equal(new URL(page.url()).pathname, `${UI}/login/test`);
      await chooseTestPerson(page, 'Pia Rørlegger');
      await page.getByText(text('request.status.accepted')).waitFor();
      assert.equal(await page.getByRole('button', { name: text('request.approve'), exact: true }).count(), 0);
      await checkA11y(page, { label: 'approved request' });
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test('Pia approves from the vendor link through the real OpenID provider', async () => {
    const server = await startServer({ oidc: true });
    const context = await newContext(browser);
    try {
      const request = await vendorRequest(server, { redirectUrl: REDIRECT });
      const page = await context.newPage();
      const vendor = await vendorSite(page);

      // The link leads to the provider's login (not the test login, even in dev mode).
      await page.goto(request.confirmUrl);
      assert.ok(page.url().startsWith(server.oidc.issuer), `at the provider: ${page.url()}`);
      await providerLogin(page, PIA);

      // Back at the portal, logged in, on the request.
      assert.equal(here(page), request.confirmUrl.slice(server.url.length));
      await page.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      assert.match(await page.locator('header').innerText(), /Pia Rørlegger/);
      await checkA11y(page, { label: 'request approval after OpenID Connect login' });

      // Approve: the provider's logout, then on to the vendor.
      await Promise.all([
        page.waitForURL(REDIRECT),
        page.getByRole('button', { name: text('request.approve'), exact: true }).click(),
      ]);
      assert.deepEqual(vendor, [REDIRECT]);
      assert.equal(await requestStatus(server, request.id), 'Accepted');
      assert.equal((await systemUser(server))?.id, request.id);

      // The provider's session ended too: the next login asks for the person again.
      await page.goto(`${server.url}${UI}/systemuser/overview`);
      assert.ok(page.url().startsWith(server.oidc.issuer), `at the provider: ${page.url()}`);
      await page.locator('input[name="login"]').waitFor();

      // A login that fails at the callback is a readable page with a way to start again.
      await page.goto(`${server.url}${UI}/login/callback?code=forged&state=forged`);
      await page.getByRole('heading', { level: 1, name: text('login.failed.title') }).waitFor();
      await page.getByText(text('login.failed.state')).waitFor();
      await checkA11y(page, { label: 'login failed' });
      await page.getByRole('link', { name: text('login.failed.retry') }).click();
      assert.ok(page.url().startsWith(server.oidc.issuer), `at the provider again: ${page.url()}`);
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
