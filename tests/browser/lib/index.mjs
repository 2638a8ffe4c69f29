// Helpers for the browser tests: headless Debian chromium through playwright-core, the
// built `systembruker` server on a temporary SQLite database, the test OpenID provider,
// axe-core accessibility checks and screenshots for the README.
//
// Tests run with Node's own runner: `node --test tests/browser/*.test.mjs` (scripts/test.sh
// builds the binary and sets the environment first).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { PERSONS, startProvider } from '../oidc-provider.mjs';

export { PERSONS };

/** The repository's root directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Debian's chromium (`apt-get install chromium`); override with CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The server binary: SYSTEMBRUKER_BIN, else the debug build in the cargo target dir. */
export function binaryPath() {
  if (process.env.SYSTEMBRUKER_BIN) return resolve(process.env.SYSTEMBRUKER_BIN);
  const target = process.env.CARGO_TARGET_DIR
    ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : join(repoRoot, 'target');
  return join(target, 'debug', 'systembruker');
}

/** The WCAG 2.1 A and AA rules: the portal must have zero violations of these. */
export const A11Y_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const inCi = process.env.CI === 'true';

/**
 * What a browser test needs and is missing (chromium, the server binary), as a reason to
 * pass to `test(name, { skip })`, or `false` when all is there. Under CI=true nothing may
 * be skipped: a missing piece throws, so the test file fails.
 */
export function missingPrerequisites({ browser = true, server = true } = {}) {
  const missing = [];
  if (browser && !existsSync(chromiumPath)) {
    missing.push(`chromium at ${chromiumPath} (apt-get install chromium)`);
  }
  if (server && !existsSync(binaryPath())) {
    missing.push(`the server binary ${binaryPath()} (cargo build -p systembruker)`);
  }
  if (missing.length === 0) return false;
  const reason = `missing ${missing.join(' and ')}`;
  if (inCi) throw new Error(`browser tests cannot run under CI: ${reason}`);
  return reason;
}

/**
 * Headless chromium. The extra flags keep it quiet: without them it keeps trying to reach
 * Google's services, which on a closed network floods the logs and slows every page.
 */
export async function launch(options = {}) {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...options,
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  const server = createServer();
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/**
 * Starts the test OpenID provider in this process (see oidc-provider.mjs for the options:
 * redirectUris, clientId, clientSecret, jwtClientJwk, …). Returns `{ issuer, clientId,
 * clientSecret, close() }`.
 */
export async function startOidcProvider(options = {}) {
  const clientId = options.clientId ?? 'systembruker';
  const clientSecret = options.clientSecret ?? 'systembruker-test-secret';
  const running = await startProvider({ ...options, clientId, clientSecret });
  return { issuer: running.issuer, clientId, clientSecret, provider: running.provider, close: running.close };
}

async function waitUntilReady(url, child, output, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`systembruker exited with ${child.exitCode}:\n${output.join('')}`);
    }
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`systembruker was not ready within ${timeoutMs} ms:\n${output.join('')}`);
}

/**
 * Starts the built server on a fresh SQLite database in a temporary directory.
 *
 * - `dev` (default true): `--demo --dev`, the demo data and the test tools and login;
 *   false starts a production-mode server on an empty database.
 * - `oidc`: `true` starts a test OpenID provider whose client redirects to this server,
 *   stopped with it; or `{ issuer, clientId, clientSecret }` of one already running (its
 *   redirect URI must then name `port`).
 * - `port`: the port to listen on (default: a free one).
 * - `args`, `env`: more flags and environment for `systembruker serve`.
 *
 * Returns `{ url, port, adminToken, oidc, output(), stop() }`.
 */
export async function startServer({ dev = true, oidc, port, adminToken = 'browser-test-admin', args = [], env = {} } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: run cargo build -p systembruker`);
  let lastError;
  // A port found free can be taken before the server binds it; try another then.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const chosen = port ?? (await freePort());
    try {
      return await startServerOnce({ bin, dev, oidc, port: chosen, adminToken, args, env });
    } catch (err) {
      lastError = err;
      if (port !== undefined || !/cannot listen|address already in use/i.test(String(err))) throw err;
    }
  }
  throw lastError;
}

async function startServerOnce({ bin, dev, oidc, port, adminToken, args, env }) {
  const url = `http://127.0.0.1:${port}`;
  let provider = null;
  let ownProvider = false;
  if (oidc === true) {
    provider = await startOidcProvider({
      redirectUris: [`${url}/accessmanagement/ui/login/callback`],
      postLogoutRedirectUris: [`${url}/accessmanagement/ui/`, `${url}/accessmanagement/ui/logged-out`],
    });
    ownProvider = true;
  } else if (oidc) {
    provider = oidc;
  }
  const dir = mkdtempSync(join(tmpdir(), 'systembruker-browser-'));
  const flags = [
    'serve',
    '--listen', `127.0.0.1:${port}`,
    '--public-url', url,
    '--database-url', `sqlite://${join(dir, 'db.sqlite')}?mode=rwc`,
    '--admin-token', adminToken,
    ...(dev ? ['--demo', '--dev'] : []),
    ...(provider
      ? ['--oidc-issuer', provider.issuer, '--oidc-client-id', provider.clientId, '--oidc-client-secret', provider.clientSecret]
      : []),
    ...args,
  ];
  const child = spawn(bin, flags, {
    cwd: dir,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info,sqlx=warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stdout.setEncoding('utf8').on('data', (chunk) => output.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => output.push(chunk));
  // If the test process dies, the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (ownProvider) await provider.close();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, child, output, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, adminToken, oidc: provider, output: () => output.join(''), stop };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function describeViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `    at ${n.target.join(' ')}\n      ${(n.failureSummary ?? '').replace(/\n/g, '\n      ')}`)
        .join('\n');
      return `  ${v.id} (${v.impact}): ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/**
 * Runs axe-core on the page and fails unless there are zero violations of WCAG 2.1 A and
 * AA. axe is evaluated through the DevTools protocol, so a strict Content-Security-Policy
 * on the page (no inline scripts) does not stop it. `context` narrows or excludes parts
 * (axe's include/exclude). Returns the axe results.
 */
export async function checkA11y(page, { context, label } = {}) {
  const alreadyThere = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!alreadyThere) await page.evaluate(axeSource);
  const results = await page.evaluate(
    ([ctx, tags]) => window.axe.run(ctx ?? document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    [context ?? null, A11Y_TAGS],
  );
  const where = label ?? page.url();
  if (results.violations.length > 0) {
    assert.fail(`${results.violations.length} accessibility violation(s) (WCAG 2.1 AA) on ${where}:\n${describeViolations(results.violations)}`);
  }
  return results;
}

/** Where screenshots go: docs/screenshots, or SCREENSHOT_DIR. */
export function screenshotDir() {
  return process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : join(repoRoot, 'docs', 'screenshots');
}

/** Saves a full-page screenshot as `<dir>/<name>.png` (the README shows them); returns its path. */
export async function screenshot(page, name, { dir = screenshotDir(), fullPage = true } = {}) {
  assert.match(name, /^[a-z0-9][a-z0-9-]*$/, 'screenshot names are lower-case words with dashes');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

// --- The journey demo's example programs (example-provider, example-vendor) ---

/** An example program's binary: EXAMPLE_PROVIDER_BIN / EXAMPLE_VENDOR_BIN, else next to the server's. */
export function exampleBinaryPath(name) {
  const fromEnv = { 'example-provider': process.env.EXAMPLE_PROVIDER_BIN, 'example-vendor': process.env.EXAMPLE_VENDOR_BIN }[name];
  return fromEnv ? resolve(fromEnv) : join(dirname(binaryPath()), name);
}

/** Like `missingPrerequisites`, for the example programs (`cargo build -p example-provider -p example-vendor`). */
export function missingExamples() {
  const missing = ['example-provider', 'example-vendor'].map(exampleBinaryPath).filter((p) => !existsSync(p));
  if (missing.length === 0) return false;
  const reason = `missing ${missing.join(' and ')} (cargo build -p example-provider -p example-vendor)`;
  if (inCi) throw new Error(`browser tests cannot run under CI: ${reason}`);
  return reason;
}

/** Starts an example program and waits until `${url}/health` answers. */
async function startExample(name, args, env) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(exampleBinaryPath(name), ['--listen', `127.0.0.1:${port}`, ...args], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stdout.setEncoding('utf8').on('data', (chunk) => output.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => output.push(chunk));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, output: () => output.join(''), stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await stop();
  throw new Error(`${name} was not ready within 60 s:\n${output.join('')}`);
}

/**
 * The journey demo as `scripts/demo.sh` starts it: the platform with demo data, then
 * Skatteetaten's API and SmartRegnskap, which register their Maskinporten clients with the
 * platform's operator token. Returns `{ server, provider, vendor, stop() }`.
 */
export async function startDemo() {
  const server = await startServer();
  const running = [];
  try {
    const env = { SYSTEMBRUKER_ADMIN_TOKEN: server.adminToken };
    const provider = await startExample('example-provider', ['--platform-url', server.url], env);
    running.push(provider);
    const vendor = await startExample(
      'example-vendor',
      ['--platform-url', server.url, '--provider-url', provider.url],
      env,
    );
    running.push(vendor);
    const stop = async () => {
      for (const program of running.reverse()) await program.stop();
      await server.stop();
    };
    return { server, provider, vendor, stop };
  } catch (err) {
    for (const program of running) await program.stop();
    await server.stop();
    throw err;
  }
}
