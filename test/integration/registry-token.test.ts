/**
 * Docker Hub's flow against the real registry: `auth: token` with the test token server issuing
 * ES256 JWTs signed by a certificate of the test CA (the registry's `rootcertbundle`). Anonymous
 * pulls, pushes with Basic credentials or an identity token, the `from` scope of a mount, token
 * reuse, and refusals that never show the password.
 */
import { Buffer } from 'node:buffer';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { parseReference } from '../../src/oci/reference.js';
import { RegistryClient, type Credential } from '../../src/registry/index.js';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';
import { issueCert, makeCa } from '../support/certs.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

const PASSWORD = 'T0ken-Flow-Secret';
const REFRESH = 'refresh-T0ken-Secret';

let dir: string;
let reg: TestRegistry;
let tokens: TokenServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-token-'));
  const ca = await makeCa(dir);
  const signing = await issueCert(ca, dir, 'token-signer', 'signing');
  tokens = await startTokenServer({
    service: 'kiln-registry',
    issuer: 'kiln-issuer',
    signing,
    alg: 'ES256',
    users: { alice: PASSWORD },
    refreshTokens: { [REFRESH]: 'alice' },
    // alice may only pull tok/readonly; anonymous requests only pull anything.
    grant: (user, repository, requested) =>
      user === undefined || repository === 'tok/readonly' ? requested.filter((a) => a === 'pull') : requested,
    // The token service's own refusal, for anyone, of tok/forbidden.
    refuse: (_user, scopes) =>
      scopes.some((s) => s.includes('tok/forbidden'))
        ? { status: 403, body: { details: 'access to tok/forbidden is forbidden' } }
        : undefined,
  });
  reg = await startRegistry({
    extraConfig: [
      'auth:',
      '  token:',
      `    realm: ${tokens.realm}`,
      '    service: kiln-registry',
      '    issuer: kiln-issuer',
      `    rootcertbundle: ${ca.cert}`,
    ].join('\n'),
  });
});

afterAll(async () => {
  await reg?.stop();
  await tokens?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function client(credential: Credential | undefined, lines: string[] = []): RegistryClient {
  return testRegistryClient({
    logger: linesLogger(lines, 'trace', 'json'),
    insecure: (r) => r === reg.host,
    credentials: { get: async () => credential },
  });
}

async function pushImage(c: RegistryClient, repo: string, tag: string): Promise<{ digest: string; layer: string }> {
  const layer = Buffer.from(`layer of ${repo}`);
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  await c.uploadBlob(
    { registry: reg.host, repository: repo, digest: sha256Of(layer) },
    { size: layer.length, open: async () => Readable.from([layer]) },
  );
  await c.uploadBlob(
    { registry: reg.host, repository: repo, digest: sha256Of(config) },
    { size: config.length, open: async () => Readable.from([config]) },
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256Of(config), size: config.length },
      layers: [{ mediaType: MediaType.ociLayerGzip, digest: sha256Of(layer), size: layer.length }],
    }),
  );
  return {
    digest: await c.putManifest(
      { registry: reg.host, repository: repo, tagOrDigest: tag },
      { bytes: manifest, mediaType: MediaType.ociManifest },
    ),
    layer: sha256Of(layer),
  };
}

describe('token auth against the real registry', () => {
  test('Basic credentials get a push token; the image reads back anonymously', async () => {
    const before = tokens.requests.length;
    const alice = client({ username: 'alice', password: PASSWORD });
    const pushed = await pushImage(alice, 'tok/app', '1');
    const got = await client(undefined).getManifest(parseReference(`${reg.host}/tok/app:1`));
    expect(got.digest).toBe(pushed.digest);
    const mine = tokens.requests.slice(before);
    expect(mine.filter((r) => r.user === 'alice').flatMap((r) => r.scopes)).toContain('repository:tok/app:pull,push');
    // The push token is fetched once and reused for every blob and the manifest.
    expect(
      mine.filter((r) => r.user === 'alice' && r.scopes.join(' ') === 'repository:tok/app:pull,push'),
    ).toHaveLength(1);
    expect(mine.filter((r) => r.user === undefined).every((r) => r.credentialsSent === false)).toBe(true);
    await alice.close();
  });

  test('a mount asks for pull on the source repository (the `from` scope)', async () => {
    const alice = client({ username: 'alice', password: PASSWORD });
    const { layer } = await pushImage(alice, 'tok/src', '1');
    const before = tokens.requests.length;
    expect(await alice.mountBlob({ registry: reg.host, repository: 'tok/dst', digest: layer }, 'tok/src')).toBe(true);
    expect(await alice.hasBlob(reg.host, 'tok/dst', layer)).toBe(true);
    expect(tokens.requests.slice(before).map((r) => r.scopes)).toContainEqual([
      'repository:tok/dst:pull,push',
      'repository:tok/src:pull',
    ]);
    await alice.close();
  });

  test('an identity token uses the OAuth2 refresh_token grant', async () => {
    const before = tokens.requests.length;
    const c = client({ identityToken: REFRESH });
    await pushImage(c, 'tok/identity', '1');
    expect(tokens.requests.slice(before).every((r) => r.method === 'POST' && r.user === 'alice')).toBe(true);
    await c.close();
  });

  test('anonymous pushes are refused as unauthorized, naming registry and repository', async () => {
    const c = client(undefined);
    const err = await c.checkPushAccess(reg.host, 'tok/anon').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).details).toMatchObject({ registry: reg.host, repository: 'tok/anon', status: 401 });
    expect((err as Error).message).toMatch(
      new RegExp(`^checking push access to ${reg.host}/tok/anon: unauthorized \\(401 UNAUTHORIZED`),
    );
    // Issue 13 item 6: an anonymous token was sent, but no credentials; the hint blames none.
    expect((err as Error).message).toMatch(new RegExp(`\\): no credentials for ${reg.host}$`));
    expect((err as RegistryError).hint).not.toMatch(/the credentials/);
    await c.close();
  });

  test('a wrong password is refused by the token server; the password is never shown', async () => {
    const lines: string[] = [];
    const c = client({ username: 'alice', password: 'Wr0ng-Token-Pass' }, lines);
    const err = await c.getManifest(parseReference(`${reg.host}/tok/app:1`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `fetching manifest ${reg.host}/tok/app:1: authenticating with ${tokens.realm}: unauthorized (401 incorrect username or password): credentials rejected`,
    );
    expect((err as RegistryError).hint).toMatch(/its token service rejected them/);
    const everything = `${String(err)} ${(err as RegistryError).hint ?? ''} ${lines.join('')}`;
    expect(everything).not.toContain('Wr0ng-Token-Pass');
    expect(everything).not.toContain(Buffer.from('alice:Wr0ng-Token-Pass').toString('base64'));
    await c.close();
  });

  // Issue 13 item 6: the token service's 403 is told apart from rejected or missing credentials.
  test('a 403 of the token service to accepted credentials: "token service refused the credentials"', async () => {
    const c = client({ username: 'alice', password: PASSWORD });
    const err = await c.getManifest(parseReference(`${reg.host}/tok/forbidden:1`)).catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `fetching manifest ${reg.host}/tok/forbidden:1: authenticating with ${tokens.realm}: denied (403 access to tok/forbidden is forbidden): token service refused the credentials`,
    );
    expect((err as RegistryError).hint).toBe(
      `the token service of ${reg.host} does not give the credentials this access on tok/forbidden`,
    );
  });

  test('a 403 of the token service to an anonymous request does not blame credentials', async () => {
    const c = client(undefined);
    const err = await c.getManifest(parseReference(`${reg.host}/tok/forbidden:1`)).catch((e: unknown) => e);
    await c.close();
    expect((err as Error).message).toBe(
      `fetching manifest ${reg.host}/tok/forbidden:1: authenticating with ${tokens.realm}: denied (403 access to tok/forbidden is forbidden): token service refused: no credentials for ${reg.host}`,
    );
    expect((err as RegistryError).hint).toMatch(
      new RegExp(`^the token service of ${reg.host} refuses anonymous access on tok/forbidden; log in to `),
    );
    expect((err as RegistryError).hint).not.toMatch(/the credentials/);
  });

  test('credentials accepted without the access asked for (insufficient_scope) are "not allowed", not "rejected"', async () => {
    const c = client({ username: 'alice', password: PASSWORD });
    const err = await c.checkPushAccess(reg.host, 'tok/readonly').catch((e: unknown) => e);
    await c.close();
    expect((err as Error).message).toMatch(
      new RegExp(
        `^checking push access to ${reg.host}/tok/readonly: unauthorized \\(401 .*\\): credentials not allowed to do this$`,
      ),
    );
    expect((err as RegistryError).hint).toBe(
      `the token service of ${reg.host} accepted the credentials but did not grant this access on tok/readonly`,
    );
  });
});
