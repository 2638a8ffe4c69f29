// Users and access in a real browser. Ola lacks what SmartCloud's request needs: he asks
// for exactly that from the request page, Pia grants it from her "Users and access"
// page, and Ola approves the request himself. Bernt's Bakeriet Brød AS gives Tallmakerne
// AS (its accounting firm) an access package on the same screen, with an organisation as
// receiver, and Tina at once finds Bakeriet among the clients for an agent that needs it.
// Every screen is checked with axe-core, in bokmål, nynorsk and English.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import {
  DEMO_SYSTEM,
  TALLMAKERNE,
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

const REDIRECT = `${VENDOR_SITE}/receipt?order=18`;

describe('Users and access', { skip: missingPrerequisites(), timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Ola asks for what he lacks, Pia grants it, Ola approves', async () => {
    const server = await startServer();
    const olas = await newContext(browser);
    const pias = await newContext(browser);
    try {
      const request = await vendorRequest(server, { redirectUrl: REDIRECT });

      // Ola opens the vendor's link: he lacks rights, and may ask for exactly those.
      const ola = await olas.newPage();
      const vendor = await vendorSite(ola);
      await ola.goto(request.confirmUrl);
      await chooseTestPerson(ola, 'Ola Nordmann');
      await ola.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      assert.equal(await ola.getByRole('button', { name: text('request.approve'), exact: true }).count(), 0);
      await ola.getByRole('button', { name: text('access.request.ask') }).click();
      await ola.getByText(text('access.request.asked')).waitFor();
      await checkA11y(ola, { label: 'request after asking for access' });
      await screenshot(ola, 'access-ask-from-request');

      // His own asks, on "Users and access": waiting.
      await ola.goto(`${server.url}${UI}/access`);
      await ola.getByText(text('access.not_reader')).waitFor();
      const mine = ola.locator('section', { has: ola.getByRole('heading', { name: text('access.mine.heading') }) });
      assert.match(await mine.innerText(), new RegExp(text('access.ask.status.pending')));
      await checkA11y(ola, { label: 'users and access for someone who is no access manager' });

      // Pia sees the ask and grants it with one click.
      const pia = await pias.newPage();
      await testLogin(pia, server, 'Pia Rørlegger', `${UI}/access`);
      await pia.getByRole('heading', { level: 1, name: text('access.heading').replace('{org}', 'Rør og Vann AS') }).waitFor();
      const asks = pia.locator('section', { has: pia.getByRole('heading', { name: text('access.asks.heading') }) });
      await asks.waitFor();
      assert.match(await asks.innerText(), /Ola Nordmann/);
      assert.match(await asks.innerText(), /Krav og betalinger/);
      await checkA11y(pia, { label: 'users and access with an ask to answer' });
      await screenshot(pia, 'access-overview');
      await asks.getByRole('button', { name: text('access.asks.grant').replace('{name}', 'Ola Nordmann') }).click();
      await pia.getByText(text('access.notice.granted')).waitFor();
      const given = pia.locator('section', { has: pia.getByRole('heading', { name: text('access.given.heading') }) });
      const olaRow = given.locator('li.connection', { hasText: 'Ola Nordmann' });
      assert.match(await olaRow.innerText(), /Krav og betalinger/);
      assert.match(await olaRow.innerText(), /Tilgangsstyrer/);
      assert.equal(await pia.getByRole('heading', { name: text('access.asks.heading') }).count(), 0);
      await checkA11y(pia, { label: 'users and access after granting' });

      // The same page in nynorsk and English.
      for (const lang of ['nn', 'en']) {
        await pia.goto(`${server.url}${UI}/language?lang=${lang}&goto=${encodeURIComponent(`${UI}/access`)}`);
        await pia.getByRole('heading', { level: 1, name: text('access.heading', lang).replace('{org}', 'Rør og Vann AS') }).waitFor();
        await checkA11y(pia, { label: `users and access (${lang})` });
      }

      // Ola sees the answer, and now approves the request himself.
      await ola.reload();
      assert.match(await mine.innerText(), new RegExp(text('access.ask.status.granted')));
      await screenshot(ola, 'access-my-asks');
      await ola.goto(request.confirmUrl);
      const approve = ola.getByRole('button', { name: text('request.approve'), exact: true });
      await approve.waitFor();
      await checkA11y(ola, { label: 'request Ola may now approve' });
      await Promise.all([ola.waitForURL(REDIRECT), approve.click()]);
      assert.deepEqual(vendor, [REDIRECT]);
      assert.equal(await requestStatus(server, request.id), 'Accepted');
    } finally {
      await olas.close();
      await pias.close();
      await server.stop();
    }
  });

  test("Bernt's bakery gives its accounting firm a package; Tina sees the bakery among the clients", async () => {
    const server = await startServer();
    const tinas = await newContext(browser);
    const bernts = await newContext(browser);
    try {
      // An agent system user for Tallmakerne that needs the tax package; Tina approves.
      const agent = await api(server, 'POST', '/authentication/api/v1/systemuser/request/vendor/agent', {
        token: await vendorToken(server),
        json: {
          systemId: DEMO_SYSTEM,
          partyOrgNo: TALLMAKERNE,
          redirectUrl: `${VENDOR_SITE}/receipt?agent=18`,
          accessPackages: [{ urn: 'urn:altinn:accesspackage:skatt-naering' }],
        },
      });
      assert.equal(agent.status, 201, JSON.stringify(agent.body));
      const tina = await tinas.newPage();
      await vendorSite(tina);
      await testLogin(tina, server, 'Tina Tallmaker', agent.body.confirmUrl.slice(server.url.length));
      await Promise.all([
        tina.waitForURL(`${VENDOR_SITE}/**`),
        tina.getByRole('button', { name: text('request.agent.approve') }).click(),
      ]);
      const clientsPage = `${UI}/systemuser/${agent.body.id}/agentdelegation/clients`;
      await testLogin(tina, server, 'Tina Tallmaker');
      await tina.locator('#party-list li', { hasText: 'Tallmakerne AS' }).getByRole('button').click();
      await tina.waitForURL(`**${UI}/systemuser/overview`);
      await tina.goto(`${server.url}${clientsPage}`);
      await tina.getByRole('heading', { level: 1, name: text('clients.add.title') }).waitFor();
      assert.doesNotMatch(await tina.locator('main').innerText(), /Bakeriet Brød AS/);

      // Bernt, for Bakeriet Brød AS: finds Tallmakerne by org number, picks the package
      // by searching, sees what they will get, confirms.
      const bernt = await bernts.newPage();
      await testLogin(bernt, server, 'Bernt Baker', `${UI}/access`);
      await bernt.getByRole('heading', { level: 1, name: text('access.heading').replace('{org}', 'Bakeriet Brød AS') }).waitFor();
      await checkA11y(bernt, { label: 'users and access for an access manager' });
      await bernt.getByLabel(text('access.find.org_no')).fill(TALLMAKERNE);
      await bernt
        .locator('form', { has: bernt.getByLabel(text('access.find.org_no')) })
        .getByRole('button', { name: text('access.find.submit') })
        .click();
      await bernt.getByRole('heading', { level: 1, name: text('access.give.heading').replace('{name}', 'Tallmakerne AS') }).waitFor();
      await bernt.getByLabel(text('access.pick.package_search')).fill('Skatt næring');
      await Promise.all([
        bernt.waitForURL(/[?&]q=Skatt/),
        bernt.getByLabel(text('access.pick.package_search')).press('Enter'),
      ]);
      await bernt.getByRole('checkbox', { name: /^Skatt næring/ }).check();
      await checkA11y(bernt, { label: 'pick packages' });
      await screenshot(bernt, 'access-give');
      await bernt.getByRole('button', { name: text('access.pick.continue') }).click();
      await bernt
        .getByRole('heading', {
          level: 1,
          name: text('access.confirm.heading').replace('{name}', 'Tallmakerne AS').replace('{org}', 'Bakeriet Brød AS'),
        })
        .waitFor();
      assert.match(await bernt.locator('main').innerText(), /Skatt næring/);
      await checkA11y(bernt, { label: 'confirm access' });
      await screenshot(bernt, 'access-confirm');
      await bernt.getByRole('button', { name: text('access.confirm.submit') }).click();
      await bernt.getByText(text('access.notice.given')).waitFor();
      const row = bernt.locator('li.connection', { hasText: 'Tallmakerne AS' });
      assert.match(await row.innerText(), /Skatt næring/);

      // At once, Bakeriet is among the clients Tina may add to the agent.
      await tina.reload();
      const list = tina.locator('ul.client-list');
      assert.match(await list.innerText(), /Bakeriet Brød AS/);
      await checkA11y(tina, { label: 'add clients after the business-to-business package' });
    } finally {
      await tinas.close();
      await bernts.close();
      await server.stop();
    }
  });
});
