/**
 * Issue 5 end to end, credentials: the executor against the real registry with htpasswd Basic
 * auth (credentials from `$DOCKER_CONFIG/config.json`, wrong ones exit 4 "unauthorized" with the
 * password nowhere in the output, a `docker-credential-<name>` helper on PATH), and with token
 * auth from the test token server (RS256 JWTs the registry verifies against the test CA): Docker
 * Hub's flow, including the `from` scope of a cross-repository mount and identity tokens.
 */
import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pushBusybox, type BaseImage } from '../support/busybox.js';
import { issueCert, makeCa } from '../support/certs.js';
import { runExecutor, tempDir } from '../support/executor.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { skopeo } from '../support/run.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

const USER = 'builder';
const PASSWORD = 'Htpasswd-Corr3ct-9fz';
const WRONG = 'Htpasswd-Wr0ng-4kq';
const REFRESH = 'identity-T0ken-7hw';

let dir: string;
let basic: TestRegistry;
let basicBase: BaseImage;
let tokens: TokenServer;
let hub: TestRegistry;
let hubBase: BaseImage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-auth-'));
  const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', USER, PASSWORD]);
  await writeFile(join(dir, 'htpasswd'), stdout);
  basic = await startRegistry({
    extraConfig: ['auth:', '  htpasswd:', '    realm: kiln-e2e', `    path: ${join(dir, 'htpasswd')}`].join('\n'),
  });
  const ca = await makeCa(dir, 'token-ca', 'rsa');
  const signing = await issueCert(ca, dir, 'token-signer', 'signing', 'rsa');
  tokens = await startTokenServer({
    service: 'kiln-hub',
    issuer: 'kiln-hub-issuer',
    signing,
    alg: 'RS256',
    users: { [USER]: PASSWORD },
    refreshTokens: { [REFRESH]: USER },
  });
  hub = await startRegistry({
    extraConfig: [
      'auth:',
      '  token:',
      `    realm: ${tokens.realm}`,
      '    service: kiln-hub',
      '    issuer: kiln-hub-issuer',
      `    rootcertbundle: ${ca.cert}`,
    ].join('\n'),
  });
  [basicBase, hubBase] = await Promise.all([
    pushBusybox(basic, 'base/busybox', 'latest', { creds: `${USER}:${PASSWORD}` }),
    pushBusybox(hub, 'base/busybox', 'latest', { creds: `${USER}:${PASSWORD}` }),
  ]);
});

afterAll(async () => {
  await Promise.all([basic?.stop(), hub?.stop(), tokens?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A DOCKER_CONFIG directory holding `config`. */
async function dockerConfig(config: unknown): Promise<string> {
  const d = await tempDir('docker-config');
  await writeFile(join(d, 'config.json'), JSON.stringify(config));
  return d;
}

const auth = (user: string, password: string): { auth: string } => ({
  auth: Buffer.from(`${user}:${password}`).toString('base64'),
});

async function context(from: string): Promise<string> {
  const ctx = await tempDir('auth-ctx');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${from}\nCOPY hello.txt /hello.txt\n`);
  await writeFile(join(ctx, 'hello.txt'), 'authenticated\n');
  return ctx;
}

async function digestOf(ref: string): Promise<string> {
  const info = JSON.parse(
    (await skopeo(['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${ref}`])).toString(),
  ) as { Digest: string };
  return info.Digest;
}

describe('htpasswd Basic auth', () => {
  test('credentials from config.json pull the base and push the image', async () => {
    const dest = `${basic.host}/auth/app:1`;
    const cfg = await dockerConfig({ auths: { [basic.host]: auth(USER, PASSWORD) } });
    const r = await runExecutor(['--context', await context(basicBase.ref), '--destination', dest, '-v', 'trace'], {
      env: { DOCKER_CONFIG: cfg },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(await digestOf(dest));
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  test('wrong credentials exit 4 "unauthorized", the password nowhere in the output', async () => {
    const cfg = await dockerConfig({ auths: { [`https://${basic.host}/v1/`]: auth(USER, WRONG) } });
    const r = await runExecutor(
      ['--context', await context(basicBase.ref), '--destination', `${basic.host}/auth/denied:1`, '-v', 'trace'],
      { env: { DOCKER_CONFIG: cfg } },
    );
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(`^error: checking push access to ${basic.host}/auth/denied: unauthorized \\(401 UNAUTHORIZED`, 'm'),
    );
    expect(r.stderr).toMatch(/^hint: check the credentials for /m);
    // Issue 13 item 6: it says the credentials were rejected, and which config.json they came from.
    expect(r.stderr).toMatch(
      new RegExp(`^error: .*: unauthorized \\(401 .*\\): credentials rejected from ${cfg}/config\\.json$`, 'm'),
    );
    for (const secret of [WRONG, Buffer.from(`${USER}:${WRONG}`).toString('base64')])
      expect(r.stdout + r.stderr).not.toContain(secret);
  });

  test('no config.json exits 4 saying so and where Kiln looked, unlike a wrong password', async () => {
    const cfg = await tempDir('docker-config-empty');
    const r = await runExecutor(
      ['--context', await context(basicBase.ref), '--destination', `${basic.host}/auth/none:1`],
      { env: { DOCKER_CONFIG: cfg } },
    );
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: checking push access to ${basic.host}/auth/none: unauthorized \\(401 .*\\): no credentials for ${basic.host}: ${cfg}/config\\.json does not exist$`,
        'm',
      ),
    );
    const hint = r.stderr.split('\n').find((l) => l.startsWith('hint: '));
    expect(hint, r.stderr).toMatch(/DOCKER_CONFIG/);
    expect(hint).not.toMatch(/the credentials/);
  });

  test('a docker-credential-<name> helper on PATH supplies the credentials', async () => {
    const bin = await tempDir('helper-bin');
    const asked = join(bin, 'asked');
    // The helper protocol: `get`, the server address on stdin, JSON with Username and Secret on stdout.
    await writeFile(
      join(bin, 'docker-credential-kilntest'),
      [
        '#!/bin/sh',
        '[ "$1" = get ] || exit 1',
        `read server; printf '%s' "$server" > ${asked}`,
        `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"`,
      ].join('\n') + '\n',
    );
    await chmod(join(bin, 'docker-credential-kilntest'), 0o755);
    const cfg = await dockerConfig({ credHelpers: { [basic.host]: 'kilntest' } });
    const dest = `${basic.host}/auth/helper:1`;
    const r = await runExecutor(['--context', await context(basicBase.ref), '--destination', dest], {
      env: { DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(asked, 'utf8')).toBe(basic.host);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(await digestOf(dest));
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});

describe("token auth (Docker Hub's flow)", () => {
  test('pulls and pushes with tokens; the base layer is mounted with a `from` scope', async () => {
    const before = tokens.requests.length;
    const dest = `${hub.host}/hub/app:1`;
    const cfg = await dockerConfig({ auths: { [hub.host]: auth(USER, PASSWORD) } });
    const r = await runExecutor(['--context', await context(hubBase.ref), '--destination', dest, '-v', 'debug'], {
      env: { DOCKER_CONFIG: cfg },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(await digestOf(dest));
    const scopes = tokens.requests
      .slice(before)
      .filter((q) => q.status === 200)
      .map((q) => q.scopes.join(' '));
    expect(scopes).toContain('repository:hub/app:pull,push');
    expect(scopes).toContain('repository:hub/app:pull,push repository:base/busybox:pull');
    expect(r.stderr).toMatch(/blob mounted.*from=base\/busybox/);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  test('an identity token from config.json is exchanged with the refresh_token grant', async () => {
    const before = tokens.requests.length;
    const cfg = await dockerConfig({ auths: { [hub.host]: { identitytoken: REFRESH } } });
    const r = await runExecutor(
      ['--context', await context(hubBase.ref), '--destination', `${hub.host}/hub/identity:1`],
      { env: { DOCKER_CONFIG: cfg } },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const mine = tokens.requests.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((q) => q.method === 'POST' && q.user === USER)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(REFRESH);
  });

  test('a wrong password is refused by the token server: exit 4', async () => {
    const cfg = await dockerConfig({ auths: { [hub.host]: auth(USER, WRONG) } });
    const r = await runExecutor(
      ['--context', await context(hubBase.ref), '--destination', `${hub.host}/hub/denied:1`],
      { env: { DOCKER_CONFIG: cfg } },
    );
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: checking push access to ${hub.host}/hub/denied: authenticating with ${tokens.realm}: unauthorized .*: credentials rejected from ${cfg}/config\\.json$`,
        'm',
      ),
    );
    expect(r.stdout + r.stderr).not.toContain(WRONG);
  });
});
