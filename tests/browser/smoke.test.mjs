// Proves the harness before the portal's journeys use it: the built server starts and
// answers chromium, axe-core finds (and only finds) real violations, screenshots are
// written, and a person logs in at the test OpenID provider in a real browser.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { checkA11y, launch, missingPrerequisites, screenshot, startOidcProvider, startServer } from './lib/index.mjs';

const PIA = '14857510098';

describe('harness', { skip: missingPrerequisites(), timeout: 120_000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test('the server with demo data answers chromium', async () => {
    const server = await startServer();
    try {
      const page = await browser.newPage();
      const ready = await page.goto(`${server.url}/health/ready`);
      assert.equal(ready.status(), 200);

      const spec = await page.goto(`${server.url}/swagger/v1/swagger.json`);
      assert.equal(spec.status(), 200);
      const openapi = await spec.json();
      assert.match(openapi.openapi, /^3\./);
      assert.ok(openapi.paths['/authorization/api/v1/authorize'], 'the PDP is in the OpenAPI document');

      // The demo data is loaded: Pia's organisation is in the register.
      const org = await page.request.get(`${server.url}/register/api/v1/organizations/315000009`, {
        headers: { Authorization: `Bearer ${server.adminToken}` },
      });
      assert.equal(org.status(), 200);
      assert.match(await org.text(), /315000009/);
      await page.close();
    } finally {
      await server.stop();
    }
  });

  test('checkA11y passes a clean page and reports a broken one', async () => {
    const page = await browser.newPage();
    await page.setContent(
      '<!doctype html><html lang="nb"><head><title>Systemtilgang</title></head>' +
        '<body><main><h1>Systemtilgang</h1><p>Alt i orden.</p></main></body></html>',
    );
    await checkA11y(page, { label: 'clean page' });

    await page.setContent(
      '<!doctype html><html><head><title>x</title></head>' +
        '<body><main><img src="data:image/png;base64,iVBORw0KGgo="><input type="text"></main></body></html>',
    );
    await assert.rejects(checkA11y(page, { label: 'broken page' }), (err) => {
      assert.match(err.message, /html-has-lang/);
      assert.match(err.message, /image-alt/);
      assert.match(err.message, /label/);
      return true;
    });

    const dir = mkdtempSync(join(tmpdir(), 'systembruker-shots-'));
    try {
      const path = await screenshot(page, 'smoke-test', { dir });
      assert.ok(existsSync(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.close();
  });

  test('Pia logs in at the test OpenID provider in chromium', async () => {
    // A stand-in for the portal's callback: it only has to answer.
    const callback = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><html lang="en"><head><title>callback</title></head><body><main>ok</main></body></html>');
    });
    await new Promise((ok) => callback.listen(0, '127.0.0.1', ok));
    const redirectUri = `http://127.0.0.1:${callback.address().port}/accessmanagement/ui/login/callback`;
    const provider = await startOidcProvider({ redirectUris: [redirectUri] });
    try {
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(32).toString('base64url');
      const nonce = randomBytes(32).toString('base64url');
      const auth = new URL(`${provider.issuer}/auth`);
      for (const [k, v] of Object.entries({
        response_type: 'code',
        client_id: provider.clientId,
        redirect_uri: redirectUri,
        scope: 'openid profile',
        state,
        nonce,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })) {
        auth.searchParams.set(k, v);
      }

      const page = await browser.newPage();
      await page.goto(auth.href);
      await page.fill('input[name="login"]', PIA);
      await page.fill('input[name="password"]', 'any password');
      await Promise.all([page.waitForURL(`${redirectUri}?**`), page.click('button[type="submit"]')]);
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('state'), state);
      assert.equal(back.searchParams.get('iss'), provider.issuer);
      const code = back.searchParams.get('code');
      assert.ok(code, 'an authorization code came back');
      await page.close();

      const response = await fetch(`${provider.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${provider.clientId}:${provider.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const { id_token: idToken } = await response.json();
      const claims = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8'));
      assert.equal(claims.pid, PIA);
      assert.equal(claims.name, 'Pia Rørlegger');
      assert.equal(claims.nonce, nonce);
    } finally {
      await provider.close();
      await new Promise((ok) => callback.close(ok));
    }
  });
});
