// Helpers for the portal's browser tests: the vendor's side over the API (test tokens,
// requests), the logins (dev test login, the OpenID provider's login form), the portal's
// own texts, and a stand-in for the vendor's website (there is no network in the tests).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from './index.mjs';

export const UI = '/accessmanagement/ui';
export const PIA = '14857510098';
export const OLA = '02889010080';
export const TINA = '21906810074';
export const BERNT = '05828210051';
export const SMARTCLOUD = '991825827';
export const ROR_OG_VANN = '315000009';
export const TALLMAKERNE = '315100003';
export const BAKERIET = '315200008';
/** The demo's invisible system with allowedRedirectUrls ["https://smartcloud.example/receipt"]. */
export const DEMO_SYSTEM = '991825827_smartregnskap';
/** The demo's visible system, offered on "new system access". */
export const VISIBLE_SYSTEM = '991825827_smartlonn';
export const RESOURCE = 'ske-krav-og-betalinger';
export const VENDOR_SITE = 'https://smartcloud.example';

const catalogues = {};

/** The portal's text `key` in `language` (nb, nn, en), from crates/http/i18n. */
export function text(key, language = 'nb') {
  catalogues[language] ??= JSON.parse(readFileSync(join(repoRoot, 'crates/http/i18n', `${language}.json`), 'utf8'));
  const value = catalogues[language][key];
  assert.equal(typeof value, 'string', `no text ${key} in ${language}`);
  return value;
}

/** A test token from the dev-mode test tools (`GetEnterpriseToken`, `GetPersonalToken`, …). */
export async function testToken(server, tool, params) {
  const url = new URL(`${server.url}/testtools/api/${tool}`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const response = await fetch(url);
  const body = await response.text();
  assert.equal(response.status, 200, `${tool}: ${body}`);
  return body.trim();
}

/** SmartCloud's token with `scopes`. */
export function vendorToken(server, scopes = 'altinn:authentication/systemuser.request.write') {
  return testToken(server, 'GetEnterpriseToken', { orgNo: SMARTCLOUD, scopes });
}

/** A call to the platform's API; returns `{ status, body }` (JSON when it is JSON). */
export async function api(server, method, path, { token, json } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json ? { 'content-type': 'application/json' } : {}),
    },
    body: json ? JSON.stringify(json) : undefined,
  });
  const raw = await response.text();
  let body = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body };
}

/**
 * SmartCloud asks `org` for a system user of the demo system with the demo right, as a
 * vendor integration does; returns the request (`id`, `confirmUrl`, …). One request per
 * system, organisation and `externalRef` (default: the organisation number).
 */
export async function vendorRequest(
  server,
  { org = ROR_OG_VANN, redirectUrl = `${VENDOR_SITE}/receipt?order=1`, externalRef } = {},
) {
  const token = await vendorToken(server);
  const json = {
    systemId: DEMO_SYSTEM,
    partyOrgNo: org,
    rights: [{ resource: [{ id: 'urn:altinn:resource', value: RESOURCE }] }],
  };
  if (redirectUrl) json.redirectUrl = redirectUrl;
  if (externalRef) json.externalRef = externalRef;
  const { status, body } = await api(server, 'POST', '/authentication/api/v1/systemuser/request/vendor', { token, json });
  assert.equal(status, 201, JSON.stringify(body));
  assert.ok(body.confirmUrl?.startsWith(`${server.url}${UI}/`), `confirmUrl on the portal: ${body.confirmUrl}`);
  return body;
}

/** The request's status as the vendor sees it. */
export async function requestStatus(server, id) {
  const token = await vendorToken(server, 'altinn:authentication/systemuser.request.read');
  const { status, body } = await api(server, 'GET', `/authentication/api/v1/systemuser/request/vendor/${id}`, { token });
  assert.equal(status, 200, JSON.stringify(body));
  return body.status;
}

/** The system user of `systemId` for `org` as the vendor sees it (`null` when there is none). */
export async function systemUser(server, { systemId = DEMO_SYSTEM, org = ROR_OG_VANN } = {}) {
  const token = await vendorToken(server, 'altinn:authentication/systemuser.request.read');
  const { status, body } = await api(
    server,
    'GET',
    `/authentication/api/v1/systemuser/vendor/byquery?system-id=${encodeURIComponent(systemId)}&orgno=${org}`,
    { token },
  );
  if (status === 404) return null;
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/**
 * Stands in for the vendor's website: the browser has no network, so every request to
 * https://smartcloud.example/ is answered here with a small page. Playwright's
 * `page.route` does not see requests reached by a redirect (and the portal reaches the
 * vendor by redirects), so this intercepts at the DevTools protocol's Fetch domain, which
 * pauses every hop. Returns the list of pages requested there.
 */
export async function vendorSite(page) {
  const visited = [];
  const body = Buffer.from(
    '<!doctype html><html lang="en"><head><title>SmartCloud</title></head>' +
      '<body><main><h1>Thank you, SmartCloud is set up</h1></main></body></html>',
  ).toString('base64');
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', ({ requestId, request, resourceType }) => {
    // Pages are answered and counted; anything else (the favicon) is not there.
    const isPage = resourceType === 'Document';
    if (isPage) visited.push(request.url);
    cdp
      .send('Fetch.fulfillRequest', {
        requestId,
        responseCode: isPage ? 200 : 404,
        responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }],
        body: isPage ? body : '',
      })
      .catch(() => {});
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${VENDOR_SITE}/*`, requestStage: 'Request' }] });
  return visited;
}

/** On the test login page: chooses the demo person `name`. */
export async function chooseTestPerson(page, name) {
  await page.locator('button.choice', { has: page.locator('.choice-name', { hasText: name }) }).click();
  await page.waitForLoadState();
}

/** On the OpenID provider's login form: logs in as `pid`. */
export async function providerLogin(page, pid) {
  await page.locator('input[name="login"]').fill(pid);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.waitForLoadState();
}

/** Logs `name` in with the test login and lands on the overview (party chosen when one). */
export async function testLogin(page, server, name, goto = `${UI}/systemuser/overview`) {
  await page.goto(`${server.url}${UI}/login?goto=${encodeURIComponent(goto)}`);
  await chooseTestPerson(page, name);
}

/** The path and query of the page's URL. */
export function here(page) {
  const url = new URL(page.url());
  return `${url.pathname}${url.search}`;
}

/** Submits the page's form whose action ends with `action`, by its submit button. */
export async function submit(page, action, buttonText) {
  const form = page.locator(`form[action$="${action}"]`);
  const button = buttonText ? form.getByRole('button', { name: buttonText }) : form.locator('button[type="submit"]');
  await Promise.all([page.waitForLoadState(), button.first().click()]);
}

/**
 * A fresh browser context (own cookies) as Pia's browser: Norwegian bokmål first, so the
 * portal starts in bokmål, and one window size for every screenshot.
 */
export function newContext(browser, options = {}) {
  return browser.newContext({ locale: 'nb-NO', viewport: { width: 1100, height: 900 }, ...options });
}
