// The portal's other screens in a real browser, each checked with axe-core (WCAG 2.1 AA):
// choosing the organisation (with search), the agent and change request pages, request
// pages in their end states (rejected, timed out, denied), the receipt, the error pages
// (404, incomplete link, no access, ended session, login not set up), the logged-out page.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import {
  DEMO_SYSTEM,
  TALLMAKERNE,
  BAKERIET,
  UI,
  VENDOR_SITE,
  api,
  chooseTestPerson,
  newContext,
  requestStatus,
  testLogin,
  text,
  vendorRequest,
  vendorSite,
  vendorToken,
} from './lib/portal.mjs';

const h1 = (page, name) => page.getByRole('heading', { level: 1, name }).waitFor();

describe('other screens', { skip: missingPrerequisites(), timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('party choice, agent request and change request', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      // Tina acts for Tallmakerne and its clients: she chooses, with search.
      const page = await context.newPage();
      const vendor = await vendorSite(page);
      await testLogin(page, server, 'Tina Tallmaker');
      assert.equal(new URL(page.url()).pathname, `${UI}/party`);
      await h1(page, text('party.title'));
      const list = page.locator('#party-list');
      assert.match(await list.innerText(), /Tallmakerne AS/);
      assert.match(await list.innerText(), /Bakeriet Brød AS/);
      await checkA11y(page, { label: 'party choice' });
      await screenshot(page, 'party');
      // Search as you type (the script) hides the others and says how many match.
      await page.getByLabel(text('party.search_label')).fill('bakeriet');
      await page.waitForFunction(() =>
        [...document.querySelectorAll('#party-list li')].some((li) => li.hidden || li.style.display === 'none'),
      );
      assert.equal(await list.locator('li:visible').count(), 1);
      await checkA11y(page, { label: 'party choice, filtered' });
      await page.getByLabel(text('party.search_label')).fill('');
      await list.locator('li', { hasText: 'Tallmakerne AS' }).getByRole('button').click();
      await page.waitForURL(`**${UI}/systemuser/overview`);
      assert.match(await page.locator('.party-bar').innerText(), /Tallmakerne AS/);

      // An agent request (a system user for clients) for Tallmakerne.
      const token = await vendorToken(server);
      const agent = await api(server, 'POST', '/authentication/api/v1/systemuser/request/vendor/agent', {
        token,
        json: {
          systemId: DEMO_SYSTEM,
          partyOrgNo: TALLMAKERNE,
          redirectUrl: `${VENDOR_SITE}/receipt?agent=1`,
          accessPackages: [{ urn: 'urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet' }],
        },
      });
      assert.equal(agent.status, 201, JSON.stringify(agent.body));
      await page.goto(agent.body.confirmUrl);
      await h1(page, text('request.agent.heading'));
      await page.getByText(text('request.agent.clients_after')).waitFor();
      await checkA11y(page, { label: 'agent request' });
      await Promise.all([
        page.waitForURL(`${VENDOR_SITE}/receipt?agent=1`),
        page.getByRole('button', { name: text('request.agent.approve') }).click(),
      ]);
      assert.deepEqual(vendor, [`${VENDOR_SITE}/receipt?agent=1`]);

      // Its page in the portal (packages, and the clients part).
      await testLogin(page, server, 'Tina Tallmaker');
      await list.locator('li', { hasText: 'Tallmakerne AS' }).getByRole('button').click();
      await page.waitForURL(`**${UI}/systemuser/overview`);
      await page.getByRole('heading', { name: text('overview.clients.heading') }).waitFor();
      await checkA11y(page, { label: 'overview with a system access for clients' });
      await page.goto(`${server.url}${UI}/systemuser/${agent.body.id}/agentdelegation`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await checkA11y(page, { label: 'agent system access details' });

      // A change request: Pia approves a standard request, then SmartCloud asks for more.
      const pias = await newContext(browser);
      try {
        const pia = await pias.newPage();
        await vendorSite(pia);
        const request = await vendorRequest(server, { redirectUrl: null });
        await testLogin(pia, server, 'Pia Rørlegger', request.confirmUrl.slice(server.url.length));
        await pia.getByRole('button', { name: text('request.approve'), exact: true }).click();
        await h1(pia, text('receipt.approved.title'));
        const write = await vendorToken(server, 'altinn:authentication/systemuser.request.write');
        const correlation = crypto.randomUUID();
        const change = await api(
          server,
          'POST',
          `/authentication/api/v1/systemuser/changerequest/vendor?correlation-id=${correlation}&system-user-id=${request.id}`,
          {
            token: write,
            json: {
              requiredAccessPackages: [{ urn: 'urn:altinn:accesspackage:skatt-naering' }],
              redirectUrl: `${VENDOR_SITE}/receipt?change=1`,
            },
          },
        );
        assert.equal(change.status, 201, JSON.stringify(change.body));
        await testLogin(pia, server, 'Pia Rørlegger', change.body.confirmUrl.slice(server.url.length));
        await h1(pia, text('change.heading'));
        await checkA11y(pia, { label: 'change request' });
        await screenshot(pia, 'change-request');
      } finally {
        await pias.close();
      }
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test('request end states, receipt and error pages', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      const page = await context.newPage();

      // Rejected: Bernt says no to a request for Bakeriet without a redirect URL.
      const request = await vendorRequest(server, { org: BAKERIET, redirectUrl: null });
      await testLogin(page, server, 'Bernt Baker', request.confirmUrl.slice(server.url.length));
      await h1(page, text('request.heading'));
      await page.getByRole('button', { name: text('request.reject') }).click();
      await h1(page, text('receipt.rejected.title'));
      await checkA11y(page, { label: 'receipt (rejected)' });
      assert.equal(await requestStatus(server, request.id), 'Rejected');
      await page.getByRole('link', { name: text('logout.log_in_again') }).click();
      await chooseTestPerson(page, 'Bernt Baker');
      await page.goto(request.confirmUrl);
      await page.getByText(text('request.status.rejected')).waitFor();
      await checkA11y(page, { label: 'request (rejected)' });

      // No access: a request for Rør og Vann AS, where Bernt has no role.
      const other = await vendorRequest(server, { redirectUrl: null });
      const refused = await page.goto(other.confirmUrl);
      assert.equal(refused.status(), 403);
      await h1(page, text('error.no_access.title'));
      assert.match(await page.locator('main').innerText(), /Rør og Vann AS/);
      await checkA11y(page, { label: 'no access' });

      // Not found, and a link without a request id.
      const missing = await page.goto(`${server.url}${UI}/no/such/page`);
      assert.equal(missing.status(), 404);
      await h1(page, text('error.not_found.title'));
      await checkA11y(page, { label: 'not found' });
      const incomplete = await page.goto(`${server.url}${UI}/systemuser/request`);
      assert.equal(incomplete.status(), 404);
      await h1(page, text('error.bad_link.title'));
      await checkA11y(page, { label: 'incomplete link' });
      const unknown = await page.goto(`${server.url}${UI}/systemuser/request?id=${crypto.randomUUID()}`);
      assert.equal(unknown.status(), 404);
      await page.getByText(text('error.api.request_not_found')).waitFor();
      await checkA11y(page, { label: 'unknown request' });

      // Denied: SmartCloud deletes its system; the open request can no longer be approved.
      const pending = await vendorRequest(server, { org: BAKERIET, redirectUrl: null, externalRef: 'second' });
      const admin = await vendorToken(server, 'altinn:authentication/systemregister.write');
      const deleted = await api(server, 'DELETE', `/authentication/api/v1/systemregister/vendor/${DEMO_SYSTEM}`, {
        token: admin,
      });
      assert.ok(deleted.status < 300, JSON.stringify(deleted.body));
      await page.goto(pending.confirmUrl);
      await page.getByText(text('request.status.denied')).waitFor();
      await checkA11y(page, { label: 'request (denied)' });

      // The session ends (logout in another tab): a form sent from the old page says so.
      await page.goto(`${server.url}${UI}/systemuser/overview`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      const tab = await context.newPage();
      await tab.goto(`${server.url}${UI}/systemuser/overview`);
      await tab.getByRole('button', { name: text('chrome.logout') }).click();
      await h1(tab, text('logout.title'));
      await checkA11y(tab, { label: 'logged out' });
      await tab.close();
      await page.getByRole('button', { name: text('chrome.logout') }).click();
      await h1(page, text('error.expired.title'));
      await checkA11y(page, { label: 'session ended' });
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test('a timed-out request, and login without a login service', async () => {
    // Requests time out after 0 days: every request is out of time at once.
    const server = await startServer({ args: ['--request-timeout-days', '0'] });
    const context = await newContext(browser);
    try {
      const request = await vendorRequest(server, { redirectUrl: null });
      await new Promise((ok) => setTimeout(ok, 20));
      const page = await context.newPage();
      await page.goto(request.confirmUrl);
      await chooseTestPerson(page, 'Pia Rørlegger');
      await page.getByText(text('request.status.timedout')).waitFor();
      await checkA11y(page, { label: 'request (timed out)' });
    } finally {
      await context.close();
      await server.stop();
    }

    // Outside dev mode with no OpenID provider configured, login says it is not set up.
    const production = await startServer({ dev: false });
    const other = await newContext(browser);
    try {
      const page = await other.newPage();
      const response = await page.goto(`${production.url}${UI}/systemuser/overview`);
      assert.equal(response.status(), 503);
      await h1(page, text('login.unavailable.title'));
      await checkA11y(page, { label: 'login not set up' });
    } finally {
      await other.close();
      await production.stop();
    }
  });
});
