/**
 * The layer cache in a registry repository (issue 15), against the real distribution registry:
 * what is put is got back (layer with its origin, config, key parts), a missing key is undefined,
 * the locator tag names a step's newest entry, a blob corrupted in the registry's storage fails the
 * layer's stream, two builds putting at once both land, skopeo reads an entry as an image; and the
 * same over TLS with htpasswd credentials.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { entryTag } from '../../src/cache/cache-entry.js';
import { entryImage } from '../../src/cache/entry-image.js';
import { IntegrityError, RegistryError } from '../../src/errors.js';
import { registryLayerCache } from '../../src/image/registry-layer-cache.js';
import { silentLogger } from '../../src/log.js';
import type { RegistryClient } from '../../src/registry/index.js';
import { keyOf, newEntry } from '../support/cache-entries.js';
import { issueCert, makeCa } from '../support/certs.js';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { skopeo } from '../support/run.js';

const signal = new AbortController().signal;
const USER = 'cache-user';
const PASSWORD = 'Cache-Pa55word';

let plain: TestRegistry;
let secure: TestRegistry;
let dir: string;
let caPem: string;
let client: RegistryClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-cache-reg-'));
  const ca = await makeCa(dir);
  const server = await issueCert(ca, dir, 'registry', 'server');
  caPem = ca.certPem;
  const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', USER, PASSWORD]);
  await writeFile(join(dir, 'htpasswd'), stdout);
  [plain, secure] = await Promise.all([
    startRegistry(),
    startRegistry({
      extraHttp: ['  tls:', `    certificate: ${server.cert}`, `    key: ${server.key}`].join('\n'),
      extraConfig: ['auth:', '  htpasswd:', '    realm: kiln-test', `    path: ${join(dir, 'htpasswd')}`].join('\n'),
      tls: { ca: caPem },
    }),
  ]);
  client = testRegistryClient();
});

afterAll(async () => {
  await client?.close();
  await Promise.all([plain?.stop(), secure?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The file the registry keeps a blob's bytes in (distribution's filesystem driver layout). */
function storedBlob(reg: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(reg.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

describe('a plain registry', () => {
  test('put then get gives back the layer (with its origin), the config and the key with its parts', async () => {
    const lines: string[] = [];
    const cache = registryLayerCache({ client, repository: `${plain.host}/app/cache`, logger: linesLogger(lines) });
    expect(cache.where).toBe(`${plain.host}/app/cache`);
    const entry = newEntry('npm ci');
    await cache.put(entry, signal);
    const got = await cache.get(entry.key, signal);
    expect(got?.key).toEqual(entry.key);
    expect(got?.created).toBe(entry.created);
    expect(got?.config).toEqual(entry.config);
    expect(got?.layer?.descriptor.digest).toBe(entry.layer?.descriptor.digest);
    expect(got?.layer?.diffId).toBe(entry.layer?.diffId);
    expect(got?.layer?.origin).toEqual({ registry: plain.host, repository: 'app/cache' });
    const gz = Buffer.concat(await (await got!.layer!.open(signal)).toArray());
    expect(gunzipSync(gz).toString()).toBe('made by npm ci\n'.repeat(500));
    // The sink's "pushed" lines are detail for a cache entry.
    expect(lines.filter((l) => l.startsWith('INFO'))).toEqual([]);
    expect(lines.some((l) => l.startsWith('DEBUG pushed'))).toBe(true);
  });

  test('a missing key is undefined, in a repository that exists and in one that does not', async () => {
    const cache = registryLayerCache({ client, repository: `${plain.host}/app/cache`, logger: silentLogger });
    await cache.put(newEntry('true', { content: null }), signal);
    expect(await cache.get(keyOf('never built'), signal)).toBeUndefined();
    const none = registryLayerCache({ client, repository: `${plain.host}/no/such/repo`, logger: silentLogger });
    expect(await none.get(keyOf('never built'), signal)).toBeUndefined();
    expect(await none.closest(newEntry('x').locator, signal)).toBeUndefined();
  });

  test('an entry without a layer comes back without one', async () => {
    const cache = registryLayerCache({ client, repository: `${plain.host}/app/cache`, logger: silentLogger });
    const entry = newEntry('mkdir -p /x && rmdir /x', { content: null });
    await cache.put(entry, signal);
    const got = await cache.get(entry.key, signal);
    expect(got?.layer).toBeUndefined();
    expect(got?.config).toEqual(entry.config);
  });

  test("closest names the step's newest entry", async () => {
    const cache = registryLayerCache({ client, repository: `${plain.host}/app/cache`, logger: silentLogger });
    const older = newEntry('make v1', { place: 'RUN make' });
    const newer = newEntry('make v2', { place: 'RUN make' });
    await cache.put(older, signal);
    await cache.put(newer, signal);
    expect(await cache.closest(newer.locator, signal)).toEqual(newer.key);
    expect(await cache.closest(newEntry('never').locator, signal)).toBeUndefined();
  });

  test("a blob corrupted in the registry's storage fails the layer's stream with a digest error", async () => {
    const cache = registryLayerCache({ client, repository: `${plain.host}/rot/cache`, logger: silentLogger });
    const entry = newEntry('corrupt me');
    await cache.put(entry, signal);
    const path = storedBlob(plain, entry.layer!.descriptor.digest);
    const bytes = await readFile(path);
    await writeFile(path, Buffer.alloc(bytes.length, 0x41)); // same size: only the digest can tell
    const got = await cache.get(entry.key, signal);
    const err = await text(await got!.layer!.open(signal)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(String(err)).toMatch(/digest mismatch/);
  });

  test('a corrupted entry config makes get throw', async () => {
    const cache = registryLayerCache({ client, repository: `${plain.host}/rot2/cache`, logger: silentLogger });
    const entry = newEntry('corrupt my config');
    await cache.put(entry, signal);
    const path = storedBlob(plain, entryImage(entry).manifest.config.digest);
    const bytes = await readFile(path);
    await writeFile(path, bytes.toString('latin1').replace('amd64', 'arm64'), 'latin1');
    await expect(cache.get(entry.key, signal)).rejects.toThrow(/does not match its digest/);
  });

  test('two builds putting different keys at once into one repository both land', async () => {
    const repository = `${plain.host}/shared/cache`;
    const a = Array.from({ length: 4 }, (_, i) => newEntry(`a ${i}`));
    const b = Array.from({ length: 4 }, (_, i) => newEntry(`b ${i}`));
    const other = testRegistryClient();
    try {
      const build = async (c: RegistryClient, entries: typeof a): Promise<void> => {
        const cache = registryLayerCache({ client: c, repository, logger: silentLogger });
        for (const e of entries) await cache.put(e, signal);
      };
      await Promise.all([build(client, a), build(other, b)]);
    } finally {
      await other.close();
    }
    const cache = registryLayerCache({ client, repository, logger: silentLogger });
    for (const e of [...a, ...b]) {
      const got = await cache.get(e.key, signal);
      expect(got?.config).toEqual(e.config);
      await text(await got!.layer!.open(signal));
    }
  });

  test('skopeo inspects an entry as an image, its key in the annotations', async () => {
    const cache = registryLayerCache({ client, repository: `${plain.host}/app/cache`, logger: silentLogger });
    const entry = newEntry('inspect me');
    await cache.put(entry, signal);
    const ref = `docker://${plain.host}/app/cache:${entryTag(entry.key)}`;
    const info = JSON.parse((await skopeo(['inspect', '--tls-verify=false', ref])).toString()) as { Layers: string[] };
    expect(info.Layers).toEqual([entry.layer!.descriptor.digest]);
    const raw = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', ref])).toString()) as {
      annotations: Record<string, string>;
    };
    expect(raw.annotations['dev.kiln.cache.key']).toBe(entry.key.digest);
  });
});

describe('a registry with TLS and htpasswd', () => {
  const tlsClient = (password: string): RegistryClient =>
    testRegistryClient({
      insecure: () => false,
      tls: (r) => (r === secure.host ? { ca: caPem } : undefined),
      credentials: { get: async (r) => (r === secure.host ? { username: USER, password } : undefined) },
    });

  test('put then get with credentials and the CA; a layer pushed there again is mounted from its origin', async () => {
    const c = tlsClient(PASSWORD);
    try {
      const lines: string[] = [];
      const cache = registryLayerCache({
        client: c,
        repository: `${secure.host}/team/cache`,
        logger: linesLogger(lines),
      });
      const entry = newEntry('apt-get install');
      await cache.put(entry, signal);
      const got = await cache.get(entry.key, signal);
      expect(got?.layer?.descriptor.digest).toBe(entry.layer?.descriptor.digest);
      expect(got?.config.WorkingDir).toBe(entry.config.WorkingDir);
      // A hit's layer stored again elsewhere in the registry: mounted, not downloaded and uploaded.
      const elsewhere = registryLayerCache({
        client: c,
        repository: `${secure.host}/other/cache`,
        logger: linesLogger(lines),
      });
      await elsewhere.put({ ...newEntry('apt-get install again'), layer: got!.layer! }, signal);
      expect(lines.some((l) => l.includes('blob mounted') && l.includes(entry.layer!.descriptor.digest))).toBe(true);
    } finally {
      await c.close();
    }
  });

  test('wrong credentials: get and put are refused with a RegistryError, closest says nothing', async () => {
    const c = tlsClient('wrong');
    try {
      const cache = registryLayerCache({ client: c, repository: `${secure.host}/team/cache`, logger: silentLogger });
      await expect(cache.get(keyOf('apt-get install'), signal)).rejects.toBeInstanceOf(RegistryError);
      await expect(cache.put(newEntry('x'), signal)).rejects.toBeInstanceOf(RegistryError);
      expect(await cache.closest(newEntry('apt-get install').locator, signal)).toBeUndefined();
    } finally {
      await c.close();
    }
  });
});
