/**
 * The registry client against the real distribution registry with htpasswd Basic auth: the right
 * credentials work (directly and from a Docker config.json), wrong or missing ones give an
 * "unauthorized" RegistryError that never contains the password, in messages or in logs, and
 * says which it was: credentials rejected (from which config.json), or none found (and where
 * Kiln looked). A fault-injecting proxy in front of it answers 403, to see whom the hint blames.
 */
import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { parseReference } from '../../src/oci/reference.js';
import {
  dockerConfigCredentials,
  RegistryClient,
  type Credential,
  type CredentialProvider,
} from '../../src/registry/index.js';
import { startFakeRegistry, times, is, type FakeRegistry } from '../support/fake-registry.js';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const USER = 'alice';
const PASSWORD = 'Corr3ct-Horse-Battery';
const WRONG = 'Wr0ng-Staple-Guess';

let reg: TestRegistry;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-auth-'));
  const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', USER, PASSWORD]);
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, stdout);
  reg = await startRegistry({
    extraConfig: ['auth:', '  htpasswd:', '    realm: kiln-test', `    path: ${htpasswd}`].join('\n'),
  });
});

afterAll(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function fixed(c: Credential | undefined): CredentialProvider {
  return { get: async () => c };
}

function withClient(credentials: CredentialProvider, lines: string[] = []): RegistryClient {
  return testRegistryClient({
    logger: linesLogger(lines, 'trace', 'json'),
    insecure: (r) => r.startsWith('127.0.0.1:'),
    credentials,
  });
}

async function pushSmallImage(client: RegistryClient, repo: string, tag: string): Promise<string> {
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const cfg = { digest: sha256Of(config), size: config.length };
  await client.uploadBlob(
    { registry: reg.host, repository: repo, digest: cfg.digest },
    { size: cfg.size, open: async () => Readable.from([config]) },
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...cfg },
      layers: [],
    }),
  );
  return client.putManifest(
    { registry: reg.host, repository: repo, tagOrDigest: tag },
    { bytes: manifest, mediaType: MediaType.ociManifest },
  );
}

function secretsIn(text: string): string[] {
  const basicRight = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  const basicWrong = Buffer.from(`${USER}:${WRONG}`).toString('base64');
  return [PASSWORD, WRONG, basicRight, basicWrong].filter((s) => text.includes(s));
}

function everything(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    // Every link of the chain, whatever it is, is stringified as it is and searched for secrets.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    parts.push(String(e), e instanceof Error ? (e.stack ?? '') : '', JSON.stringify(e));
    if (e instanceof Error && 'hint' in e) parts.push(String(e.hint));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join('\n');
}

describe('htpasswd Basic auth', () => {
  test('the right credentials push and pull', async () => {
    const lines: string[] = [];
    const client = withClient(fixed({ username: USER, password: PASSWORD }), lines);
    try {
      await client.checkPushAccess(reg.host, 'auth/ok');
      const digest = await pushSmallImage(client, 'auth/ok', '1');
      const got = await client.getManifest(parseReference(`${reg.host}/auth/ok:1`));
      expect(got.digest).toBe(digest);
    } finally {
      await client.close();
    }
    expect(secretsIn(lines.join('\n'))).toEqual([]);
  });

  test('credentials from a Docker config.json (base64 auth) work', async () => {
    const configDir = join(dir, 'docker');
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    await rm(configDir, { recursive: true, force: true });
    await mkdir(configDir);
    await writeFile(
      join(configDir, 'config.json'),
      JSON.stringify({ auths: { [`http://${reg.host}/v2/`]: { auth } } }),
    );
    const client = withClient(dockerConfigCredentials({ env: { DOCKER_CONFIG: configDir }, homeDir: '/nonexistent' }));
    try {
      await pushSmallImage(client, 'auth/config', '1');
      expect(await client.hasBlob(reg.host, 'auth/config', sha256Of('x'))).toBe(false);
    } finally {
      await client.close();
    }
  });

  test('wrong credentials are "unauthorized" and the password appears nowhere', async () => {
    const lines: string[] = [];
    const client = withClient(fixed({ username: USER, password: WRONG }), lines);
    let err: unknown;
    try {
      err = await client.getManifest(parseReference(`${reg.host}/auth/ok:1`)).catch((e: unknown) => e);
    } finally {
      await client.close();
    }
    expect(err).toBeInstanceOf(RegistryError);
    // Issue 13 item 6: the message says the credentials were sent and rejected.
    expect((err as Error).message).toBe(
      `fetching manifest ${reg.host}/auth/ok:1: unauthorized (401 UNAUTHORIZED: authentication required): credentials rejected`,
    );
    expect((err as RegistryError).details).toMatchObject({
      registry: reg.host,
      repository: 'auth/ok',
      status: 401,
      codes: ['UNAUTHORIZED'],
    });
    expect((err as RegistryError).hint).toMatch(/check the credentials for 127\.0\.0\.1:\d+/);
    expect(secretsIn(everything(err))).toEqual([]);
    expect(secretsIn(lines.join('\n'))).toEqual([]);
  });

  test('wrong credentials fail the push-permission check and uploads', async () => {
    const client = withClient(fixed({ username: USER, password: WRONG }));
    try {
      const check = await client.checkPushAccess(reg.host, 'auth/denied').catch((e: unknown) => e);
      expect((check as Error).message).toBe(
        `checking push access to ${reg.host}/auth/denied: unauthorized (401 UNAUTHORIZED: authentication required): credentials rejected`,
      );
      expect(secretsIn(everything(check))).toEqual([]);
      const bytes = Buffer.from('layer');
      const upload = await client
        .uploadBlob(
          { registry: reg.host, repository: 'auth/denied', digest: sha256Of(bytes) },
          { size: bytes.length, open: async () => Readable.from([bytes]) },
        )
        .catch((e: unknown) => e);
      expect(upload).toBeInstanceOf(RegistryError);
      expect((upload as Error).message).toMatch(
        /^uploading blob .*: unauthorized \(401 UNAUTHORIZED: authentication required\): credentials rejected$/,
      );
      expect(secretsIn(everything(upload))).toEqual([]);
    } finally {
      await client.close();
    }
  });

  test('no credentials at all: unauthorized, with a hint about where credentials come from', async () => {
    const client = withClient(fixed(undefined));
    try {
      const err = await client.hasBlob(reg.host, 'auth/ok', sha256Of('x')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryError);
      // A HEAD answer has no body, so no registry error code to quote. (Issue 13 item 6: it says
      // that no credentials were found; this provider does not say where it looked.)
      expect((err as Error).message).toMatch(
        /^checking blob .*: unauthorized \(HTTP 401\): no credentials for 127\.0\.0\.1:\d+$/,
      );
      expect((err as RegistryError).hint).toContain('config.json');
      expect((err as RegistryError).hint).not.toContain('the credentials');
      const get = await client.getManifest(parseReference(`${reg.host}/auth/ok:1`)).catch((e: unknown) => e);
      expect((get as Error).message).toBe(
        `fetching manifest ${reg.host}/auth/ok:1: unauthorized (401 UNAUTHORIZED: authentication required): no credentials for ${reg.host}`,
      );
    } finally {
      await client.close();
    }
  });
});

/** A DOCKER_CONFIG directory under the test's dir; `config` undefined leaves it without config.json. */
async function dockerConfigDir(name: string, config?: unknown): Promise<string> {
  const d = join(dir, name);
  await rm(d, { recursive: true, force: true });
  await mkdir(d);
  if (config !== undefined) await writeFile(join(d, 'config.json'), JSON.stringify(config));
  return d;
}

function fromConfig(configDir: string): CredentialProvider {
  return dockerConfigCredentials({ env: { DOCKER_CONFIG: configDir }, homeDir: '/nonexistent' });
}

async function refusal(client: RegistryClient, repo: string): Promise<RegistryError> {
  try {
    const err = await client.getManifest(parseReference(`${repo}:1`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    return err as RegistryError;
  } finally {
    await client.close();
  }
}

// Issue 13 item 6: a wrong password and a missing config.json are told apart, naming the file.
describe('why a request was refused', () => {
  test('a wrong password from config.json: "credentials rejected from PATH", the password nowhere', async () => {
    const configDir = await dockerConfigDir('wrong', {
      auths: { [reg.host]: { auth: Buffer.from(`${USER}:${WRONG}`).toString('base64') } },
    });
    const lines: string[] = [];
    const err = await refusal(withClient(fromConfig(configDir), lines), `${reg.host}/auth/ok`);
    expect(err.message).toBe(
      `fetching manifest ${reg.host}/auth/ok:1: unauthorized (401 UNAUTHORIZED: authentication required): credentials rejected from ${configDir}/config.json`,
    );
    expect(err.hint).toBe(
      `check the credentials for ${reg.host} from ${configDir}/config.json: the registry rejected them (a wrong or expired username, password or token)`,
    );
    expect(secretsIn(everything(err))).toEqual([]);
    expect(secretsIn(lines.join('\n'))).toEqual([]);
  });

  test('no config.json: "no credentials for REGISTRY: PATH does not exist", and how to give one', async () => {
    const configDir = await dockerConfigDir('none');
    const err = await refusal(withClient(fromConfig(configDir)), `${reg.host}/auth/ok`);
    expect(err.message).toBe(
      `fetching manifest ${reg.host}/auth/ok:1: unauthorized (401 UNAUTHORIZED: authentication required): no credentials for ${reg.host}: ${configDir}/config.json does not exist`,
    );
    expect(err.hint).toMatch(/DOCKER_CONFIG/);
    expect(err.hint).not.toMatch(/the credentials/);
  });

  test('a config.json without an entry for the registry: "no credentials for REGISTRY in PATH"', async () => {
    const configDir = await dockerConfigDir('other', {
      auths: { 'elsewhere.example': { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
    });
    const err = await refusal(withClient(fromConfig(configDir)), `${reg.host}/auth/ok`);
    expect(err.message).toMatch(new RegExp(`: no credentials for ${reg.host} in ${configDir}/config\\.json$`));
    expect(err.hint).toContain(`docker login ${reg.host}`);
    expect(err.hint).not.toMatch(/the credentials/);
  });

  describe('a 403 (from a proxy in front of the registry)', () => {
    const denied = {
      kind: 'status' as const,
      status: 403,
      body: { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] },
    };
    let fakes: FakeRegistry[] = [];
    afterAll(async () => {
      await Promise.all(fakes.map((f) => f.close()));
      fakes = [];
    });

    test('with no credentials sent, the hint does not blame "the credentials"', async () => {
      const fake = await startFakeRegistry({ upstream: reg.host, rules: [times(1, is.manifestGet, denied)] });
      fakes.push(fake);
      const err = await refusal(withClient(fixed(undefined)), `${fake.host}/auth/secret`);
      expect(err.message).toBe(
        `fetching manifest ${fake.host}/auth/secret:1: denied (403 DENIED: requested access to the resource is denied): no credentials for ${fake.host}`,
      );
      expect(err.hint).toMatch(/^the registry refuses anonymous access on auth\/secret; log in to /);
      expect(err.hint).not.toMatch(/the credentials/);
    });

    test('with credentials sent, the hint says they may not do this, naming the config.json', async () => {
      const fake = await startFakeRegistry({
        upstream: reg.host,
        basicAuth: { username: USER, password: PASSWORD },
        rules: [times(1, is.manifestGet, denied)],
      });
      fakes.push(fake);
      const configDir = await dockerConfigDir('denied', {
        auths: { [fake.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      });
      const err = await refusal(withClient(fromConfig(configDir)), `${fake.host}/auth/secret`);
      expect(err.message).toBe(
        `fetching manifest ${fake.host}/auth/secret:1: denied (403 DENIED: requested access to the resource is denied)`,
      );
      expect(err.hint).toBe(
        `the credentials for ${fake.host} from ${configDir}/config.json are not allowed to do this on auth/secret`,
      );
      expect(secretsIn(everything(err))).toEqual([]);
    });
  });
});
