// Ola's escalation in a real browser: Ola (related to Rør og Vann AS, but no access
// manager) opens SmartCloud's request, sees which rights he lacks before trying, and sends
// it on to the access managers; Pia finds it waiting on her overview, approves it there
// and stays in the portal.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import {
  UI,
  VENDOR_SITE,
  chooseTestPerson,
  here,
  newContext,
  requestStatus,
  systemUser,
  testLogin,
  text,
  vendorRequest,
  vendorSite,
} from './lib/portal.mjs';

const REDIRECT = `${VENDOR_SITE}/receipt?order=2`;

describe("Ola's escalation", { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Ola sees what he lacks and escalates; Pia approves from the overview and stays', async () => {
    const server = await startServer();
    const olas = await newContext(browser);
    const pias = await newContext(browser);
    try {
      const request = await vendorRequest(server, { redirectUrl: REDIRECT });

      // Ola opens the vendor's link and logs in.
      const ola = await olas.newPage();
      const vendor = await vendorSite(ola);
      await ola.goto(request.confirmUrl);
      await chooseTestPerson(ola, 'Ola Nordmann');
      await ola.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();

      // What he lacks, before he tries: no approve button, a list, and the way on.
      const missing = ola.locator('.alert', { has: ola.getByRole('heading', { name: text('missing.heading') }) });
      await missing.waitFor();
      assert.match(await missing.innerText(), new RegExp(text('missing.access_manager.name')));
      assert.equal(await ola.getByRole('button', { name: text('request.approve'), exact: true }).count(), 0);
      await checkA11y(ola, { label: 'request with missing rights and escalation' });
      await screenshot(ola, 'missing-rights');

      await ola.getByRole('button', { name: text('escalate.submit') }).click();
      await ola.getByRole('heading', { name: text('escalate.done.heading') }).waitFor();
      assert.equal(await ola.getByRole('button', { name: text('escalate.submit') }).count(), 0);
      await checkA11y(ola, { label: 'request just escalated' });
      assert.equal(await requestStatus(server, request.id), 'New');

      // "Done, log out" ends at the vendor, like an answer would.
      await Promise.all([ola.waitForURL(REDIRECT), ola.getByRole('button', { name: text('escalate.done.finish') }).click()]);
      assert.deepEqual(vendor, [REDIRECT]);

      // Ola's own overview: he may look but not act.
      await testLogin(ola, server, 'Ola Nordmann');
      assert.equal(new URL(ola.url()).pathname, `${UI}/systemuser/overview`);
      await ola.getByText(text('overview.not_access_manager')).waitFor();
      await checkA11y(ola, { label: 'overview of someone who is no access manager' });
      // Opening the link again, the request says it has been passed on.
      await ola.goto(request.confirmUrl);
      await ola.getByText(text('escalate.already')).waitFor();
      await checkA11y(ola, { label: 'request already escalated' });

      // Pia: the request waits for her on the overview.
      const pia = await pias.newPage();
      await testLogin(pia, server, 'Pia Rørlegger');
      assert.equal(new URL(pia.url()).pathname, `${UI}/systemuser/overview`);
      const pending = pia.locator('section', { has: pia.getByRole('heading', { name: text('overview.pending.heading') }) });
      await pending.waitFor();
      assert.match(await pending.innerText(), /SmartRegnskap/);
      await checkA11y(pia, { label: 'overview with a pending request' });

      await pending.getByRole('link').first().click();
      await pia.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      assert.equal(new URL(pia.url()).searchParams.get('from'), 'overview');
      assert.equal(await pia.getByRole('heading', { name: text('missing.heading') }).count(), 0);
      await pia.getByRole('link', { name: text('common.back_to_overview') }).waitFor();
      await checkA11y(pia, { label: 'pending request opened from the overview' });

      await Promise.all([
        pia.waitForURL(`**${UI}/systemuser/overview?new=${request.id}`),
        pia.getByRole('button', { name: text('request.approve'), exact: true }).click(),
      ]);
      // She stays: still logged in, the new system access marked, nothing pending.
      assert.match(await pia.locator('header').innerText(), /Pia Rørlegger/);
      const fresh = pia.locator('.card.is-new');
      await fresh.waitFor();
      assert.match(await fresh.innerText(), new RegExp(text('overview.new')));
      assert.equal(await pia.getByRole('heading', { name: text('overview.pending.heading') }).count(), 0);
      await checkA11y(pia, { label: 'overview with a new system access' });
      await screenshot(pia, 'overview');
      assert.equal(await requestStatus(server, request.id), 'Accepted');
      assert.equal((await systemUser(server))?.id, request.id);
      assert.equal(here(pia), `${UI}/systemuser/overview?new=${request.id}`);
    } finally {
      await olas.close();
      await pias.close();
      await server.stop();
    }
  });
});
