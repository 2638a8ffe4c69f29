// The journey demo across its three programs, in a real browser: SmartRegnskap (the
// vendor's app), the platform's portal, and Skatteetaten's API behind the provider guard.
// Pia signs up Rør og Vann AS, approves in the portal, lands on SmartRegnskap's receipt and
// sees the claims; after she deletes the system access, SmartRegnskap's next call shows
// the refusal. Tina signs Tallmakerne AS up as an accountant and sees data for the clients
// she has added, and a refusal for the others.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingExamples, missingPrerequisites, screenshot, startDemo } from './lib/index.mjs';
import { BAKERIET, ROR_OG_VANN, UI, chooseTestPerson, newContext, testLogin, text } from './lib/portal.mjs';

describe('the journey demo', { skip: missingPrerequisites() || missingExamples(), timeout: 300_000 }, () => {
  let browser;
  let demo;
  before(async () => {
    browser = await launch();
    demo = await startDemo();
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('Pia signs up Rør og Vann AS, sees the claims, deletes the access and sees the refusal', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${demo.vendor.url}/`);
      await page.getByRole('heading', { level: 1, name: 'Jobb smartere med SmartCloud' }).waitFor();
      await checkA11y(page, { label: 'SmartRegnskap: front page' });
      await screenshot(page, 'demo-vendor-front');

      // Sign-up: SmartRegnskap makes the request and sends the browser to the portal.
      await page.locator('main').getByRole('link', { name: 'Prøv gratis' }).click();
      await page.getByLabel('Organisasjonsnummer for virksomheten').fill(ROR_OG_VANN);
      await checkA11y(page, { label: 'SmartRegnskap: sign-up' });
      await Promise.all([
        page.waitForURL(`${demo.server.url}${UI}/**`),
        page.getByRole('button', { name: 'Start prøveperioden' }).click(),
      ]);
      await chooseTestPerson(page, 'Pia Rørlegger');
      await page.getByRole('heading', { level: 1, name: text('request.heading') }).waitFor();
      assert.match(await page.locator('main').innerText(), /SmartRegnskap/);
      await checkA11y(page, { label: "portal: SmartRegnskap's request" });
      await screenshot(page, 'demo-approve');

      // Approve: back on SmartRegnskap's receipt.
      await Promise.all([
        page.waitForURL(`${demo.vendor.url}/receipt?**`),
        page.getByRole('button', { name: text('request.approve'), exact: true }).click(),
      ]);
      await page.locator('[data-status="Accepted"]').waitFor();
      assert.match(await page.locator('main').innerText(), /Rør og Vann AS/);
      await checkA11y(page, { label: 'SmartRegnskap: receipt' });
      await screenshot(page, 'demo-receipt');

      // The dashboard: a system-user token, then Skatteetaten's claims for Rør og Vann.
      await page.getByRole('link', { name: 'Til oversikten' }).click();
      await page.locator('table.claims').waitFor();
      const claims = await page.locator('table.claims').innerText();
      assert.match(claims, /Arbeidsgiveravgift/);
      assert.match(claims, /31\s204/);
      await checkA11y(page, { label: 'SmartRegnskap: dashboard' });
      await screenshot(page, 'demo-dashboard');
      const dashboard = page.url();

      // "Also let us …": a change request for one more package, approved in the portal.
      await Promise.all([
        page.waitForURL(`${demo.server.url}${UI}/**`),
        page.getByRole('button', { name: 'Be om utvidet tilgang' }).click(),
      ]);
      await chooseTestPerson(page, 'Pia Rørlegger');
      await page.getByRole('heading', { level: 1, name: text('change.heading') }).waitFor();
      await Promise.all([
        page.waitForURL(`${demo.vendor.url}/receipt?**`),
        page.getByRole('button', { name: text('change.approve') }).click(),
      ]);
      assert.ok(new URL(page.url()).searchParams.get('change'), 'the receipt is for the change request');
      await page.locator('[data-status="Accepted"]').waitFor();
      assert.match(await page.locator('main').innerText(), /Endringsforespørselen/);
      await checkA11y(page, { label: 'SmartRegnskap: receipt of the change request' });

      // Pia deletes the system access in the portal.
      await testLogin(page, demo.server, 'Pia Rørlegger');
      await page.locator('.card', { hasText: 'SmartRegnskap' }).getByRole('link').first().click();
      await page.getByRole('link', { name: text('details.delete') }).click();
      await page.getByRole('button', { name: text('delete.submit') }).click();
      await page.waitForURL(`**${UI}/systemuser/overview?notice=deleted`);

      // SmartRegnskap's next call: Skatteetaten's API refuses (the PDP no longer permits).
      await page.goto(dashboard);
      const refusal = page.locator('[data-refusal]');
      await refusal.waitFor();
      assert.equal(await page.locator('table.claims').count(), 0);
      assert.equal(await refusal.getAttribute('data-refusal'), 'GUARD-403-DENIED');
      assert.match(await refusal.innerText(), /Hva kan du gjøre\?/);
      await checkA11y(page, { label: 'SmartRegnskap: refusal' });
      await screenshot(page, 'demo-refusal');

      // And the call after: Maskinporten gives no token for a deleted system user.
      await page.reload();
      await refusal.waitFor();
      assert.equal(await refusal.getAttribute('data-refusal'), 'MP-303');
    } finally {
      await context.close();
    }
  });

  test("Tina's accountant journey: data for the clients she has added, and only those", async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${demo.vendor.url}/`);
      await page.locator('main').getByRole('link', { name: 'Kom i gang som regnskapsfører' }).click();
      assert.equal(await page.getByLabel('Organisasjonsnummer for regnskapsføreren').inputValue(), '315100003');
      await checkA11y(page, { label: 'SmartRegnskap: accountant sign-up' });
      await Promise.all([
        page.waitForURL(`${demo.server.url}${UI}/**`),
        page.getByRole('button', { name: 'Be om systemtilgang for klienter' }).click(),
      ]);
      await chooseTestPerson(page, 'Tina Tallmaker');
      await page.getByRole('heading', { level: 1, name: text('request.agent.heading') }).waitFor();
      await Promise.all([
        page.waitForURL(`${demo.vendor.url}/receipt?**`),
        page.getByRole('button', { name: text('request.agent.approve') }).click(),
      ]);
      await page.locator('[data-status="Accepted"]').waitFor();
      await page.getByRole('link', { name: 'Til oversikten' }).click();

      // Both of Tallmakerne's clients are listed; neither is added, so no data.
      const ror = page.locator(`section.client[data-org="${ROR_OG_VANN}"]`);
      const bakeriet = page.locator(`section.client[data-org="${BAKERIET}"]`);
      await ror.waitFor();
      await bakeriet.waitFor();
      assert.equal(await ror.locator('[data-refusal]').getAttribute('data-refusal'), 'GUARD-403-DENIED');
      assert.equal(await bakeriet.locator('[data-refusal]').count(), 1);

      // Tina adds Rør og Vann AS: its claims appear, Bakeriet Brød AS stays refused.
      await Promise.all([
        page.waitForLoadState(),
        ror.getByRole('button', { name: 'Legg til Rør og Vann AS som klient' }).click(),
      ]);
      await ror.locator('table.claims').waitFor();
      assert.match(await ror.innerText(), /Klient i SmartRegnskap/);
      assert.equal(await bakeriet.locator('table.claims').count(), 0);
      assert.equal(await bakeriet.locator('[data-refusal]').getAttribute('data-refusal'), 'GUARD-403-DENIED');
      await checkA11y(page, { label: 'SmartRegnskap: accountant dashboard' });
      await screenshot(page, 'demo-accountant');

      // Once she adds Bakeriet Brød AS, its data is there too.
      await Promise.all([
        page.waitForLoadState(),
        bakeriet.getByRole('button', { name: 'Legg til Bakeriet Brød AS som klient' }).click(),
      ]);
      await bakeriet.locator('table.claims').waitFor();
      assert.equal(await page.locator('[data-refusal]').count(), 0);
    } finally {
      await context.close();
    }
  });
});
