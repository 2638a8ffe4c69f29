// The journey's set-up phase in the portal, as Skatteetaten's and SmartCloud's developers
// ("For utviklere"): Sigrid (Skatteetaten's daglig leder) creates a scope and gives
// SmartCloud AS access; Sverre (SmartCloud's daglig leder) creates a Maskinporten client
// with a public PEM key (a private key is refused), registers a system with it, and, as a
// self-developed system, gives it a system user for SmartCloud itself. The client's token
// for that system user then gets a PDP Permit. Every screen is checked with axe-core.

import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startServer } from './lib/index.mjs';
import { RESOURCE, SMARTCLOUD, UI, api, newContext, testLogin, testToken, text } from './lib/portal.mjs';

const SKATTEETATEN = '974761076';
const SCOPE = 'skatteetaten:saldo';
const SYSTEM = `${SMARTCLOUD}_smartsaldo`;

const b64url = (data) => Buffer.from(data).toString('base64url');

/** A JWT-bearer grant signed with `privateKey`, asking for a system-user token for `org`. */
function assertion(server, { clientId, kid, privateKey, scope, org }) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid };
  const claims = {
    aud: `${server.url}/maskinporten/`, iss: clientId, scope, iat: now, exp: now + 60, jti: randomUUID(),
    authorization_details: [{
      type: 'urn:altinn:systemuser',
      systemuser_org: { authority: 'iso6523-actorid-upis', ID: `0192:${org}` },
    }],
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey);
  return `${input}.${b64url(signature)}`;
}

/** Opens "For utviklere" as `name`, choosing `party` if the portal asks. */
async function openDeveloperPage(page, server, name, party) {
  await testLogin(page, server, name, `${UI}/developer`);
  if (new URL(page.url()).pathname === `${UI}/party`) {
    await page.locator('button.choice', { hasText: party }).click();
    await page.waitForLoadState();
  }
  await page.getByRole('heading', { level: 1, name: text('developer.title') }).waitFor();
}

describe('For developers: the set-up phase in the portal', { skip: missingPrerequisites(), timeout: 240_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('Skatteetaten makes a scope, SmartCloud a client and a self-developed system that gets a Permit', async () => {
    const server = await startServer();
    try {
      // --- Skatteetaten's developer: a scope, and access for SmartCloud AS.
      const ske = await newContext(browser);
      const sigrid = await ske.newPage();
      await openDeveloperPage(sigrid, server, 'Sigrid Skattum', 'Skatteetaten');
      await checkA11y(sigrid, { label: 'developer page (Skatteetaten)' });
      const scopeForm = sigrid.locator('form[action$="/developer/scopes"]');
      await scopeForm.getByLabel(text('developer.scopes.subscope_label')).fill('saldo');
      await scopeForm.getByLabel(text('developer.scopes.description_label')).fill('Saldo for virksomheter');
      await scopeForm.getByRole('button', { name: text('developer.scopes.create') }).click();
      await sigrid.getByText(text('developer.done.scope_created')).waitFor();
      const card = sigrid.locator('.developer-scope', { hasText: SCOPE });
      await card.getByLabel(text('developer.scopes.grant_label')).fill(SMARTCLOUD);
      await card.getByRole('button', { name: text('developer.scopes.grant') }).click();
      await sigrid.getByText(text('developer.done.access_granted')).waitFor();
      assert.match(await sigrid.locator('.developer-scope', { hasText: SCOPE }).innerText(), /SmartCloud AS/);
      await checkA11y(sigrid, { label: 'developer page: scope with access' });
      await screenshot(sigrid, 'developer-scopes');
      // A scope under someone else's prefix cannot even be asked for: only own prefixes are offered.
      const prefixes = await sigrid.getByLabel(text('developer.scopes.prefix_label')).locator('option').allInnerTexts();
      assert.deepEqual(prefixes, ['skatteetaten:']);
      await ske.close();

      // --- SmartCloud's developer: a client with a public PEM key (a private one is refused).
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const kid = `smartsaldo-${randomUUID()}`;
      const sc = await newContext(browser);
      const sverre = await sc.newPage();
      await openDeveloperPage(sverre, server, 'Sverre Skyvik', 'SmartCloud AS');
      const newClient = sverre.locator('form[action$="/developer/clients"]');
      await newClient.getByLabel(text('developer.clients.name_label')).fill('SmartSaldo');
      await newClient.getByRole('checkbox', { name: SCOPE }).check();
      await newClient.getByLabel(text('developer.keys.key_label')).fill(privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await newClient.getByRole('button', { name: text('developer.clients.create') }).click();
      await sverre.locator('#developer-error').waitFor();
      assert.match(await sverre.locator('#developer-error').innerText(), /private key/);
      await checkA11y(sverre, { label: 'developer page: private key refused' });

      const again = sverre.locator('form[action$="/developer/clients"]');
      await again.getByLabel(text('developer.clients.name_label')).fill('SmartSaldo');
      await again.getByRole('checkbox', { name: SCOPE }).check();
      await again.getByLabel(text('developer.keys.key_label')).fill(publicKey.export({ type: 'spki', format: 'pem' }));
      await again.getByLabel(text('developer.keys.kid_label')).fill(kid);
      await again.getByRole('button', { name: text('developer.clients.create') }).click();
      await sverre.getByText(text('developer.done.client_created')).waitFor();
      const clientCard = sverre.locator('.developer-client', { hasText: 'SmartSaldo' });
      const clientId = (await clientCard.locator('.client-id').innerText()).trim();
      assert.match(clientId, /^[0-9a-f-]{36}$/);
      assert.match(await clientCard.innerText(), new RegExp(kid));
      await checkA11y(sverre, { label: 'developer page: client with key' });
      await screenshot(sverre, 'developer-clients');

      // --- The system in the system register, with that client.
      await sverre.getByRole('link', { name: text('developer.systems.new') }).click();
      await sverre.getByRole('heading', { level: 1, name: text('developer.system.new_title') }).waitFor();
      await checkA11y(sverre, { label: 'system register form' });
      await sverre.getByLabel(text('developer.system.id_label')).fill('smartsaldo');
      const names = sverre.getByRole('group', { name: text('developer.system.name') });
      await names.getByLabel(text('developer.system.in_nb')).fill('SmartSaldo');
      await names.getByLabel(text('developer.system.in_nn')).fill('SmartSaldo');
      await names.getByLabel(text('developer.system.in_en')).fill('SmartBalance');
      // The register's own rules answer: a description is required (the API's error).
      await sverre.getByRole('checkbox', { name: new RegExp(RESOURCE) }).check();
      await sverre.getByRole('checkbox', { name: new RegExp(clientId) }).check();
      const descriptions = sverre.getByRole('group', { name: text('developer.system.description') });
      await descriptions.getByLabel(text('developer.system.in_nb')).fill('Saldo for egen virksomhet');
      await descriptions.getByLabel(text('developer.system.in_nn')).fill('Saldo for eiga verksemd');
      await descriptions.getByLabel(text('developer.system.in_en')).fill('Balance for our own organisation');
      await screenshot(sverre, 'developer-system');
      await sverre.getByRole('button', { name: text('developer.system.save') }).click();
      await sverre.getByText(text('developer.done.system_saved')).waitFor();
      const systemCard = sverre.locator('.developer-system', { hasText: SYSTEM });
      assert.match(await systemCard.innerText(), /SmartSaldo/);

      // --- Self-developed: a system user for SmartCloud itself, no vendor request.
      await systemCard.getByRole('link', { name: new RegExp(text('developer.systems.own_user')) }).click();
      await sverre.getByRole('heading', { level: 1, name: text('create.confirm.title') }).waitFor();
      await checkA11y(sverre, { label: 'self-developed: confirm' });
      await sverre.getByRole('button', { name: text('create.submit') }).click();
      await sverre.waitForURL(`**${UI}/systemuser/overview?new=*`);
      const systemUserId = new URL(sverre.url()).searchParams.get('new');
      await checkA11y(sverre, { label: 'overview with the own system user' });
      await sc.close();

      // --- The client's token for the system user, and the PDP's answer.
      const grant = assertion(server, { clientId, kid, privateKey, scope: SCOPE, org: SMARTCLOUD });
      const response = await fetch(`${server.url}/maskinporten/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: grant }),
      });
      const token = await response.json();
      assert.equal(response.status, 200, JSON.stringify(token));
      const claims = JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.authorization_details[0].systemuser_id[0], systemUserId);
      assert.equal(claims.consumer.ID, `0192:${SMARTCLOUD}`);
      const pdpToken = await testToken(server, 'GetEnterpriseToken', { orgNo: SKATTEETATEN, scopes: 'altinn:authorization/authorize' });
      const decision = await api(server, 'POST', '/authorization/api/v1/authorize', {
        token: pdpToken,
        json: { Request: {
          AccessSubject: [{ Attribute: [{ AttributeId: 'urn:altinn:systemuser:uuid', Value: systemUserId }] }],
          Action: [{ Attribute: [{ AttributeId: 'urn:oasis:names:tc:xacml:1.0:action:action-id', Value: 'read' }] }],
          Resource: [{ Attribute: [
            { AttributeId: 'urn:altinn:resource', Value: RESOURCE },
            { AttributeId: 'urn:altinn:organization:identifier-no', Value: SMARTCLOUD },
          ] }],
        } },
      });
      assert.equal(decision.status, 200, JSON.stringify(decision.body));
      assert.equal(decision.body.Response[0].Decision, 'Permit');
    } finally {
      await server.stop();
    }
  });

  test('a person without the package sees why, in nynorsk too', async () => {
    const server = await startServer();
    const context = await newContext(browser, { locale: 'nn-NO' });
    try {
      const page = await context.newPage();
      // Ola has no role in Rør og Vann AS, only a delegated tax package: no maskinporten-administrator.
      await testLogin(page, server, 'Ola Nordmann', `${UI}/developer`);
      if (new URL(page.url()).pathname === `${UI}/party`) {
        await page.locator('button.choice').first().click();
        await page.waitForLoadState();
      }
      await page.getByText(text('developer.not_allowed_named', 'nn').replace('{package}', 'maskinporten-administrator')).waitFor();
      await checkA11y(page, { label: 'developer page without the package' });
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
