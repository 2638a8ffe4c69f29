// A real OpenID provider for the tests (the npm package `oidc-provider`), set up the way
// ID-porten behaves towards systembruker: authorization code flow with PKCE (S256) required,
// RS256 id_tokens that carry the person's national identity number in `pid`, no consent
// screen, and RP-initiated logout (without a confirmation page).
//
// The built-in development login form ("devInteractions") stands in for ID-porten's login:
// the login name is the person number; any password is accepted.
//
// As a program:
//   node oidc-provider.mjs [--port 0] [--host 127.0.0.1] [--client-id ID] [--client-secret S]
//        [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
//        [--jwt-client-id ID --jwt-client-jwk FILE] [--exit-with-stdin]
// every option also read from the environment (OIDC_PORT, OIDC_HOST, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS and OIDC_POST_LOGOUT_REDIRECT_URIS comma-separated,
// OIDC_JWT_CLIENT_ID, OIDC_JWT_CLIENT_JWK, OIDC_EXIT_WITH_STDIN=1). Prints `ready <issuer>`
// once it listens; with --exit-with-stdin it stops when its standard input closes.
// As a module: `startProvider(options)` with the same options in camelCase.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** The demo cast of systembruker (README, "The demo cast"), by person number. */
export const PERSONS = {
  '14857510098': 'Pia Rørlegger',
  '02889010080': 'Ola Nordmann',
  '21906810074': 'Tina Tallmaker',
  '05828210051': 'Bernt Baker',
};

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  clientId: 'systembruker',
  clientSecret: 'systembruker-test-secret',
  redirectUris: ['http://127.0.0.1:8080/accessmanagement/ui/login/callback'],
  jwtClientId: 'systembruker-jwt',
};

/**
 * An account for a login name: the demo persons by name, any other 11-digit number as an
 * unnamed person (so tests can log in as someone the register does not know), and nobody
 * else.
 */
function account(login) {
  if (!/^\d{11}$/.test(login)) return undefined;
  const name = PERSONS[login];
  return {
    accountId: login,
    async claims() {
      return name === undefined ? { sub: login, pid: login } : { sub: login, pid: login, name };
    },
  };
}

/** A fresh RS256 signing key, so no test depends on a key committed to the repository. */
function signingJwk() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `test-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

function postLogoutDefaults(redirectUris) {
  return [...new Set(redirectUris.map((uri) => `${new URL(uri).origin}/accessmanagement/ui/`))];
}

/**
 * Starts the provider. Returns `{ issuer, provider, close() }`.
 *
 * options: host, port (0 = any free port), clientId, clientSecret, redirectUris,
 * postLogoutRedirectUris, jwtClientId and jwtClientJwk (the public JWK object, or a path
 * to a file holding it; without it the private_key_jwt client is left out).
 */
export async function startProvider(options = {}) {
  // Loaded here, not at the top, so importing PERSONS alone needs no provider (and prints
  // none of its start-up warnings).
  const { default: Provider } = await import('oidc-provider');
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const redirectUris = o.redirectUris;
  const postLogoutRedirectUris = o.postLogoutRedirectUris ?? postLogoutDefaults(redirectUris);
  const common = {
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'RS256',
  };
  const clients = [
    {
      ...common,
      client_id: o.clientId,
      client_secret: o.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ];
  if (o.jwtClientJwk) {
    const jwk =
      typeof o.jwtClientJwk === 'string' ? JSON.parse(readFileSync(o.jwtClientJwk, 'utf8')) : o.jwtClientJwk;
    clients.push({
      ...common,
      client_id: o.jwtClientId,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [jwk] },
    });
  }

  // The server listens first, so the issuer can name the port actually bound (port 0 picks
  // a free one without a race); requests are handed to the provider once it exists.
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end('starting');
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(o.port), o.host, resolve);
  });
  const { port } = server.address();
  const issuer = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;

  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingJwk()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    async findAccount(_ctx, id) {
      return account(id);
    },
    // ID-porten puts pid in the id_token; `openid` is the scope every login has.
    claims: { openid: ['sub', 'pid'], profile: ['name'] },
    // Scope claims go into the id_token too, not only to the userinfo endpoint.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      // ID-porten ends its session at once, without asking: the logout form (with
      // logout=yes, "sign out of the provider too") is sent as soon as the page loads.
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body =
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Logging out</title></head>' +
            `<body><main><h1>Logging out</h1>${form}` +
            '<input type="hidden" form="op.logoutForm" name="logout" value="yes">' +
            '<noscript><button type="submit" form="op.logoutForm">Log out</button></noscript>' +
            "<script>document.getElementById('op.logoutForm').submit()</script></main></body></html>";
        },
      },
    },
    // ID-porten asks no consent: the login grants what the client asked for.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      const grant = grantId
        ? await oidc.provider.Grant.find(grantId)
        : new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope(oidc.params.scope ?? 'openid');
      grant.addOIDCClaims(['pid', 'name']);
      await grant.save();
      return grant;
    },
    ttl: { Session: 3600, Interaction: 3600, Grant: 3600, AccessToken: 3600, IdToken: 3600 },
  });
  // Errors that are the point of a negative test should not drown the test output.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

  const callback = provider.callback();
  handler = callback;
  return {
    issuer,
    provider,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function list(value) {
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

async function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'jwt-client-id': { type: 'string' },
      'jwt-client-jwk': { type: 'string' },
      'exit-with-stdin': { type: 'boolean' },
    },
  });
  const env = process.env;
  const running = await startProvider({
    host: values.host ?? env.OIDC_HOST,
    port: values.port ?? env.OIDC_PORT,
    clientId: values['client-id'] ?? env.OIDC_CLIENT_ID,
    clientSecret: values['client-secret'] ?? env.OIDC_CLIENT_SECRET,
    redirectUris: values['redirect-uri'] ?? list(env.OIDC_REDIRECT_URIS),
    postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? list(env.OIDC_POST_LOGOUT_REDIRECT_URIS),
    jwtClientId: values['jwt-client-id'] ?? env.OIDC_JWT_CLIENT_ID,
    jwtClientJwk: values['jwt-client-jwk'] ?? env.OIDC_JWT_CLIENT_JWK,
  });
  process.stdout.write(`ready ${running.issuer}\n`);
  const stop = () => running.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (values['exit-with-stdin'] || env.OIDC_EXIT_WITH_STDIN === '1') {
    // The parent (a test) closing our stdin means it is gone, even if it could not kill
    // us: stop with it rather than linger.
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`oidc-provider: ${err?.stack ?? err}`);
    process.exit(1);
  });
}
