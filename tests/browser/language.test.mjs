// The language switch in a real browser: bokmål → nynorsk → English from the header,
// `<html lang>` and the texts follow, and the choice survives a reload and a new tab (a
// cookie), also across the login.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, startServer } from './lib/index.mjs';
import { UI, chooseTestPerson, newContext, text } from './lib/portal.mjs';

const NAMES = { nb: 'Bokmål', nn: 'Nynorsk', en: 'English' };

async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.lang);
}

async function h1(page) {
  return (await page.getByRole('heading', { level: 1 }).innerText()).trim();
}

describe('language switch', { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('nb → nn → en: html lang and texts change, and the choice is remembered', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}${UI}/systemuser/overview`);
      // Not logged in: the test login, in bokmål (the browser's language).
      assert.equal(new URL(page.url()).pathname, `${UI}/login/test`);
      assert.equal(await htmlLang(page), 'nb');
      assert.equal(await h1(page), text('login.test.title', 'nb'));
      await chooseTestPerson(page, 'Pia Rørlegger');
      assert.equal(new URL(page.url()).pathname, `${UI}/systemuser/overview`);
      assert.equal(await htmlLang(page), 'nb');
      const heading = (language) => text('overview.heading', language).replace('{org}', 'Rør og Vann AS');
      assert.equal(await h1(page), heading('nb'));

      for (const language of ['nn', 'en']) {
        const languages = page.getByRole('navigation', { name: text('chrome.language', await htmlLang(page)) });
        await languages.getByRole('link', { name: NAMES[language] }).click();
        await page.waitForFunction((lang) => document.documentElement.lang === lang, language);
        // Back on the same page, now in the chosen language.
        assert.equal(new URL(page.url()).pathname, `${UI}/systemuser/overview`);
        assert.equal(await h1(page), heading(language));
        assert.equal(await page.getByRole('link', { name: text('chrome.skip', language) }).count(), 1);
        const current = page
          .getByRole('navigation', { name: text('chrome.language', language) })
          .getByRole('link', { name: NAMES[language] });
        assert.equal(await current.getAttribute('aria-current'), 'true');
        await checkA11y(page, { label: `overview in ${language}` });

        // A reload and a new tab keep it.
        await page.reload();
        assert.equal(await htmlLang(page), language);
        assert.equal(await h1(page), heading(language));
        const tab = await context.newPage();
        await tab.goto(`${server.url}${UI}/systemuser/create`);
        assert.equal(await htmlLang(tab), language);
        assert.equal(await h1(tab), text('create.title', language));
        await tab.close();
      }

      // After logout the login page is still in English.
      await page.getByRole('button', { name: text('chrome.logout', 'en') }).click();
      await page.getByRole('heading', { level: 1, name: text('logout.title', 'en') }).waitFor();
      assert.equal(await htmlLang(page), 'en');
      await checkA11y(page, { label: 'logged out, in English' });
      await page.getByRole('link', { name: text('logout.log_in_again', 'en') }).click();
      assert.equal(await h1(page), text('login.test.title', 'en'));
      assert.equal(await htmlLang(page), 'en');
      await checkA11y(page, { label: 'test login in English' });

      // Back to bokmål.
      await page.getByRole('link', { name: NAMES.nb }).click();
      await page.waitForFunction(() => document.documentElement.lang === 'nb');
      assert.equal(await h1(page), text('login.test.title', 'nb'));
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
