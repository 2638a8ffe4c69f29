// The audit in the portal: after SmartCloud's client gets a token for Rør og Vann AS's
// system user and Skatteetaten gets a Permit about it, Pia sees both on the system
// access's Activity tab, filters them on the server and pages through them; Bernt sees
// nothing of Rør og Vann AS. Every screen is checked with axe-core.

import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import { PIA, RESOURCE, ROR_OG_VANN, SMARTCLOUD, UI, api, newContext, testLogin, testToken, text, vendorToken } from './lib/portal.mjs';

const SYSTEM = '991825827_activity';
const SCOPE = 'skatteetaten:kravogbetalinger';
const ROR_PARTY = 70000003;

const base64url = (value) => Buffer.from(value).toString('base64url');

/** A Maskinporten client of SmartCloud with a fresh RSA key: `{ clientId, sign }`. */
async function maskinportenClient(server) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `activity-${randomUUID()}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const { status, body } = await api(server, 'POST', '/admin/api/v1/maskinporten/clients', {
    token: server.adminToken,
    json: { client_name: 'SmartCloud activity', consumer_org: SMARTCLOUD, scopes: [SCOPE], jwks: { keys: [jwk] } },
  });
  assert.equal(status, 201, JSON.stringify(body));
  const clientId = body.client_id;
  const sign = (claims) => {
    const unsigned = `${base64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url');
    return `${unsigned}.${signature}`;
  };
  return { clientId, sign };
}

/** SmartCloud's system bound to the client, and Rør og Vann AS's system user (Pia approves). */
async function approvedSystemUser(server, clientId) {
  const vendor = await vendorToken(server, 'altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write');
  const rights = [{ resource: [{ id: 'urn:altinn:resource', value: RESOURCE }] }];
  let { status, body } = await api(server, 'POST', '/authentication/api/v1/systemregister/vendor', {
    token: vendor,
    json: {
      id: SYSTEM,
      vendor: { authority: 'iso6523-actorid-upis', ID: `0192:${SMARTCLOUD}` },
      name: { nb: 'SmartRegnskap Aktivitet', nn: 'SmartRekneskap Aktivitet', en: 'SmartAccounting Activity' },
      description: { nb: 'Regnskap', nn: 'Rekneskap', en: 'Accounting' },
      rights,
      clientId: [clientId],
      isVisible: false,
    },
  });
  assert.equal(status, 200, JSON.stringify(body));
  ({ status, body } = await api(server, 'POST', '/authentication/api/v1/systemuser/request/vendor', {
    token: vendor,
    json: { systemId: SYSTEM, partyOrgNo: ROR_OG_VANN, rights },
  }));
  assert.equal(status, 201, JSON.stringify(body));
  const id = body.id;
  const pia = await testToken(server, 'GetPersonalToken', { pid: PIA, scopes: 'altinn:portal/enduser' });
  ({ status, body } = await api(server, 'POST', `/authentication/api/v1/systemuser/request/${ROR_PARTY}/${id}/approve`, { token: pia }));
  assert.equal(status, 200, JSON.stringify(body));
  return { id, pia };
}

/** A system-user token for Rør og Vann AS from the token endpoint. */
async function systemUserToken(server, client) {
  const now = Math.floor(Date.now() / 1000);
  const assertion = client.sign({
    aud: `${server.url}/maskinporten/`,
    iss: client.clientId,
    scope: SCOPE,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    authorization_details: [
      { type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${ROR_OG_VANN}` } },
    ],
  });
  const response = await fetch(`${server.url}/maskinporten/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
}

/** Skatteetaten asks the PDP about the system user acting for Rør og Vann AS. */
async function decide(server, systemUser) {
  const token = await testToken(server, 'GetEnterpriseToken', { orgNo: '974761076', scopes: 'altinn:authorization/authorize' });
  const { status, body } = await api(server, 'POST', '/authorization/api/v1/authorize', {
    token,
    json: {
      Request: {
        AccessSubject: [{ Attribute: [{ AttributeId: 'urn:altinn:systemuser:uuid', Value: systemUser }] }],
        Action: [{ Attribute: [{ AttributeId: 'urn:oasis:names:tc:xacml:1.0:action:action-id', Value: 'read' }] }],
        Resource: [
          {
            Attribute: [
              { AttributeId: 'urn:altinn:resource', Value: RESOURCE },
              { AttributeId: 'urn:altinn:organization:identifier-no', Value: ROR_OG_VANN },
            ],
          },
        ],
      },
    },
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body.Response[0].Decision;
}

/** Waits until the API shows `count` records (the audit writes within moments). */
async function waitForActivity(server, pia, id, count) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { status, body } = await api(server, 'GET', `/authentication/api/v1/systemuser/${ROR_PARTY}/${id}/activity`, { token: pia });
    assert.equal(status, 200, JSON.stringify(body));
    if (body.data.length >= count) return body;
    assert.ok(Date.now() < deadline, `only ${body.data.length} records: ${JSON.stringify(body)}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

const rows = (page) => page.locator('table.activity-table tbody tr');

describe('a system access’s activity in the portal', { skip: missingPrerequisites(), timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Pia sees the token and the Permit, filters and pages them; Bernt sees nothing', async () => {
    const server = await startServer();
    const context = await newContext(browser);
    try {
      const client = await maskinportenClient(server);
      const { id, pia } = await approvedSystemUser(server, client.clientId);
      await systemUserToken(server, client);
      assert.equal(await decide(server, id), 'Permit');
      const recorded = await waitForActivity(server, pia, id, 2);
      assert.deepEqual(
        recorded.data.map((r) => r.kind),
        ['decision', 'token'],
      );

      // From the details page to the Activity tab.
      const page = await context.newPage();
      await testLogin(page, server, 'Pia Rørlegger', `${UI}/systemuser/${id}`);
      await page.getByRole('heading', { name: text('details.rights_heading') }).waitFor();
      await checkA11y(page, { label: 'details with tabs' });
      await page.getByRole('link', { name: text('audit.tab.activity') }).click();
      await page.waitForURL(`**${UI}/systemuser/${id}/activity`);
      await page.getByRole('heading', { level: 2, name: text('audit.heading') }).waitFor();
      assert.equal(await rows(page).count(), 2);
      const newest = await rows(page).nth(0).innerText();
      assert.match(newest, new RegExp(text('audit.kind.decision')));
      assert.match(newest, new RegExp(text('audit.decision.Permit')));
      assert.match(newest, new RegExp(RESOURCE));
      const oldest = await rows(page).nth(1).innerText();
      assert.match(oldest, new RegExp(text('audit.kind.token')));
      assert.match(oldest, new RegExp(text('audit.token_issued')));
      assert.match(oldest, new RegExp(SCOPE));
      await checkA11y(page, { label: 'activity' });
      await screenshot(page, 'activity');

      // Filtered on the server: only the Permit.
      await page.getByLabel(text('audit.decision'), { exact: true }).selectOption('Permit');
      await Promise.all([page.waitForURL(/decision=Permit/), page.getByRole('button', { name: text('audit.apply') }).click()]);
      assert.equal(await rows(page).count(), 1);
      assert.match(await rows(page).nth(0).innerText(), new RegExp(text('audit.decision.Permit')));
      await checkA11y(page, { label: 'activity filtered' });

      // Only tokens, then a resource nothing matches.
      await page.goto(`${server.url}${UI}/systemuser/${id}/activity?kind=token`);
      assert.equal(await rows(page).count(), 1);
      await page.goto(`${server.url}${UI}/systemuser/${id}/activity?resource=another`);
      await page.getByText(text('audit.empty')).waitFor();
      await checkA11y(page, { label: 'activity empty' });

      // A date it cannot read is named in plain words.
      await page.goto(`${server.url}${UI}/systemuser/${id}/activity?from=yesterday`);
      await page.getByText(text('audit.error.date')).waitFor();
      await checkA11y(page, { label: 'activity bad date' });

      // More records than fit on a page: server-side pages, newest first.
      for (let i = 0; i < 26; i += 1) assert.equal(await decide(server, id), 'Permit');
      await waitForActivity(server, pia, id, 28);
      await page.goto(`${server.url}${UI}/systemuser/${id}/activity`);
      assert.equal(await rows(page).count(), 25);
      await page.getByRole('link', { name: text('audit.older') }).click();
      await page.waitForURL(/before=/);
      assert.equal(await rows(page).count(), 3);
      assert.match(await rows(page).nth(2).innerText(), new RegExp(text('audit.kind.token')));
      await checkA11y(page, { label: 'activity older page' });
      await page.getByRole('link', { name: text('audit.newest') }).click();
      await page.waitForURL(`**${UI}/systemuser/${id}/activity`);
      assert.equal(await rows(page).count(), 25);

      // In English too.
      await page.goto(`${server.url}${UI}/language?lang=en&goto=${encodeURIComponent(`${UI}/systemuser/${id}/activity`)}`);
      await page.getByRole('heading', { level: 2, name: text('audit.heading', 'en') }).waitFor();
      await checkA11y(page, { label: 'activity in English' });

      // Bernt, daglig leder of Bakeriet, sees nothing of Rør og Vann AS's system access.
      const bernt = await (await newContext(browser)).newPage();
      await testLogin(bernt, server, 'Bernt Baker');
      const response = await bernt.goto(`${server.url}${UI}/systemuser/${id}/activity`);
      assert.equal(response.status(), 404);
      assert.equal(await rows(bernt).count(), 0);
      assert.doesNotMatch(await bernt.locator('main').innerText(), new RegExp(RESOURCE));
      await checkA11y(bernt, { label: 'activity refused' });
      await bernt.context().close();
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
