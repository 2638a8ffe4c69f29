// Tina manages the clients of an agent system access in a real browser: SmartCloud asks
// Tallmakerne AS for a system user for clients, Tina approves, then adds Rør og Vann AS
// on the add page, sees it on the agent's page, removes it, and adds all clients at once
// (the progress and the result summary). The API agrees at every step.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import {
  DEMO_SYSTEM,
  TALLMAKERNE,
  TINA,
  UI,
  VENDOR_SITE,
  api,
  newContext,
  testLogin,
  testToken,
  text,
  vendorSite,
  vendorToken,
} from './lib/portal.mjs';

const REDIRECT = `${VENDOR_SITE}/receipt?agent=1`;

/** The clients delegated to the agent, as the API lists them for Tina (names). */
async function delegatedClients(server, partyId, agentId) {
  const token = await testToken(server, 'GetPersonalToken', { pid: TINA, scopes: 'altinn:portal/enduser' });
  const { status, body } = await api(
    server,
    'GET',
    `/authentication/api/v1/systemuser/agent/${partyId}/${agentId}/delegations`,
    { token },
  );
  assert.equal(status, 200, JSON.stringify(body));
  const list = Array.isArray(body) ? body : (body.data ?? []);
  return list.map((d) => d.clientOrganizationName).sort();
}

describe("Tina's clients", { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Tina adds and removes clients of an agent system access', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      const org = await api(server, 'GET', `/register/api/v1/organizations/${TALLMAKERNE}`, { token: server.adminToken });
      assert.equal(org.status, 200, JSON.stringify(org.body));
      const partyId = org.body.partyId ?? org.body.id ?? org.body.party_id;
      assert.ok(partyId, `Tallmakerne's party id in ${JSON.stringify(org.body)}`);

      // SmartCloud asks Tallmakerne for a system user for clients; Tina approves.
      const agent = await api(server, 'POST', '/authentication/api/v1/systemuser/request/vendor/agent', {
        token: await vendorToken(server),
        json: {
          systemId: DEMO_SYSTEM,
          partyOrgNo: TALLMAKERNE,
          redirectUrl: REDIRECT,
          accessPackages: [{ urn: 'urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet' }],
        },
      });
      assert.equal(agent.status, 201, JSON.stringify(agent.body));
      const page = await context.newPage();
      await vendorSite(page);
      await testLogin(page, server, 'Tina Tallmaker', agent.body.confirmUrl.slice(server.url.length));
      await page.getByRole('heading', { level: 1, name: text('request.agent.heading') }).waitFor();
      await Promise.all([
        page.waitForURL(REDIRECT),
        page.getByRole('button', { name: text('request.agent.approve') }).click(),
      ]);

      // Her overview, for Tallmakerne: the agent under "for clients".
      await testLogin(page, server, 'Tina Tallmaker');
      await page.locator('#party-list li', { hasText: 'Tallmakerne AS' }).getByRole('button').click();
      await page.waitForURL(`**${UI}/systemuser/overview`);
      const forClients = page.locator('section', { has: page.getByRole('heading', { name: text('overview.clients.heading') }) });
      await forClients.getByRole('link').first().click();
      await page.waitForURL(`**${UI}/systemuser/${agent.body.id}/agentdelegation**`);
      const clients = page.locator('#clients');
      await clients.getByText(text('clients.empty')).waitFor();
      await checkA11y(page, { label: 'agent details without clients' });

      // The add page lists the firm's clients that provide the package.
      await clients.getByRole('link', { name: text('clients.add_link') }).click();
      await page.getByRole('heading', { level: 1, name: text('clients.add.title') }).waitFor();
      const list = page.locator('ul.client-list');
      assert.match(await list.innerText(), /Rør og Vann AS/);
      assert.match(await list.innerText(), /Bakeriet Brød AS/);
      await checkA11y(page, { label: 'add clients' });

      // Add Rør og Vann AS.
      const ror = list.locator('li', { hasText: 'Rør og Vann AS' });
      await ror.getByRole('button', { name: `${text('clients.add')} Rør og Vann AS` }).click();
      await page.getByText(text('clients.notice.added').replace('{name}', 'Rør og Vann AS')).waitFor();
      await ror.getByText(text('clients.added_badge')).waitFor();
      await checkA11y(page, { label: 'add clients, one added' });
      assert.deepEqual(await delegatedClients(server, partyId, agent.body.id), ['Rør og Vann AS']);
      await screenshot(page, 'clients-add');

      // Back on the agent's page it is listed.
      await page.getByRole('link', { name: text('clients.add.done') }).click();
      await page.waitForURL(`**${UI}/systemuser/${agent.body.id}/agentdelegation**`);
      const listed = page.locator('#clients ul.client-list:not(.own)');
      assert.match(await listed.innerText(), /Rør og Vann AS/);
      assert.doesNotMatch(await listed.innerText(), /Bakeriet Brød AS/);
      await checkA11y(page, { label: 'agent details with a client' });
      await screenshot(page, 'client-management');

      // Remove it again.
      await listed
        .locator('li', { hasText: 'Rør og Vann AS' })
        .getByRole('button', { name: `${text('clients.remove')} Rør og Vann AS` })
        .click();
      await page.getByText(text('clients.notice.removed').replace('{name}', 'Rør og Vann AS')).waitFor();
      await page.locator('#clients').getByText(text('clients.empty')).waitFor();
      await checkA11y(page, { label: 'agent details after removing the client' });
      assert.deepEqual(await delegatedClients(server, partyId, agent.body.id), []);

      // Add all at once: the progress, then the summary.
      await page.locator('#clients').getByRole('link', { name: text('clients.add_link') }).click();
      await page.getByRole('heading', { level: 1, name: text('clients.add.title') }).waitFor();
      const bulk = page.locator('section.bulk');
      await bulk.getByRole('button').click();
      const summary = text('clients.add_all.result').replace('{added}', '2').replace('{total}', '2');
      await page.getByText(summary).first().waitFor();
      await checkA11y(page, { label: 'add all: result' });
      assert.deepEqual(await delegatedClients(server, partyId, agent.body.id), ['Bakeriet Brød AS', 'Rør og Vann AS']);
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
