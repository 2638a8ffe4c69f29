// Creating a system access from the portal and deleting it, in a real browser: Pia picks
// the visible demo system SmartLønn, sees exactly what it gets, confirms, reads the
// details, and deletes it after a confirmation page.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import { UI, VISIBLE_SYSTEM, newContext, systemUser, testLogin, text } from './lib/portal.mjs';

describe('system access created and deleted in the portal', { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Pia creates SmartLønn access, reads its details and deletes it with confirmation', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await testLogin(page, server, 'Pia Rørlegger');
      await page.getByText(text('overview.own.empty')).waitFor();
      await checkA11y(page, { label: 'empty overview' });

      // Step 1: pick a visible system (search narrows the list without a reload).
      await page.locator('main').getByRole('link', { name: text('overview.create') }).click();
      await page.getByRole('heading', { level: 1, name: text('create.title') }).waitFor();
      assert.equal(new URL(page.url()).pathname, `${UI}/systemuser/create`);
      const list = page.locator('#system-list');
      assert.match(await list.innerText(), /SmartLønn/);
      assert.doesNotMatch(await list.innerText(), /SmartRegnskap/, 'the invisible system is not offered');
      await checkA11y(page, { label: 'create: pick a system' });
      await screenshot(page, 'create');
      await page.getByLabel(text('create.search_label')).fill('lønn');
      await page.getByRole('radio', { name: /SmartLønn/ }).check();
      await page.getByRole('button', { name: text('create.continue') }).click();

      // Step 2: exactly what it gets, then confirm.
      await page.getByRole('heading', { level: 1, name: text('create.confirm.title') }).waitFor();
      assert.equal(new URL(page.url()).searchParams.get('system'), VISIBLE_SYSTEM);
      const main = await page.locator('main').innerText();
      assert.match(main, /Krav og betalinger/);
      await checkA11y(page, { label: 'create: confirm' });
      await screenshot(page, 'create-confirm');
      await page.getByRole('button', { name: text('create.submit') }).click();
      await page.waitForURL(`**${UI}/systemuser/overview?new=*`);
      const id = new URL(page.url()).searchParams.get('new');
      const created = await systemUser(server, { systemId: VISIBLE_SYSTEM });
      assert.equal(created?.id, id, 'the system user exists in the API');
      const card = page.locator('.card.is-new');
      assert.match(await card.innerText(), /SmartLønn/);
      await checkA11y(page, { label: 'overview after create' });

      // Asking for it again says it is there already.
      await page.goto(`${server.url}${UI}/systemuser/create?system=${VISIBLE_SYSTEM}`);
      await page.getByText(text('create.exists')).waitFor();
      await checkA11y(page, { label: 'create: exists already' });

      // Details in plain words.
      await page.goto(`${server.url}${UI}/systemuser/overview`);
      await page.locator('.card', { hasText: 'SmartLønn' }).getByRole('link').click();
      await page.waitForURL(`**${UI}/systemuser/${id}`);
      await page.getByRole('heading', { name: text('details.rights_heading') }).waitFor();
      const details = await page.locator('main').innerText();
      assert.match(details, /Krav og betalinger/);
      assert.match(details, new RegExp(text('details.created').replace('{date}', '\\d')));
      await checkA11y(page, { label: 'details' });
      await screenshot(page, 'details');

      // Delete: a confirmation page first; cancel goes back and changes nothing.
      await page.getByRole('link', { name: text('details.delete') }).click();
      await page.getByRole('heading', { level: 1, name: text('delete.title') }).waitFor();
      await checkA11y(page, { label: 'delete confirmation' });
      await screenshot(page, 'delete');
      await page.getByRole('link', { name: text('common.cancel') }).click();
      await page.waitForURL(`**${UI}/systemuser/${id}`);
      assert.ok(await systemUser(server, { systemId: VISIBLE_SYSTEM }), 'still there after cancel');

      await page.getByRole('link', { name: text('details.delete') }).click();
      await page.getByRole('button', { name: text('delete.submit') }).click();
      await page.waitForURL(`**${UI}/systemuser/overview?notice=deleted`);
      await page.getByText(text('overview.notice.deleted')).waitFor();
      await page.getByText(text('overview.own.empty')).waitFor();
      await checkA11y(page, { label: 'overview after delete' });
      assert.equal(await systemUser(server, { systemId: VISIBLE_SYSTEM }), null, 'gone from the API');

      // Its page is gone too: our 404 page.
      const gone = await page.goto(`${server.url}${UI}/systemuser/${id}`);
      assert.equal(gone.status(), 404);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await checkA11y(page, { label: 'details of a deleted system access (404)' });
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
