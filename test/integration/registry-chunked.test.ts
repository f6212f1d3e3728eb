/**
 * Uploads against the real registry (through the fake, to count and break requests): small blobs
 * go in one PUT, large ones as PATCH chunks with Content-Range, then an empty PUT ?digest=; a chunk
 * lost to a reset is resumed from the registry's upload status; a source of the wrong length is
 * an IntegrityError.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, onTestFinished, test, vi } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { testRegistryClient } from '../support/registry-client.js';
import { startFakeRegistry, times, type FakeRegistry, type FaultRule } from '../support/fake-registry.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;

beforeAll(async () => {
  reg = await startRegistry();
});

afterAll(async () => {
  await reg?.stop();
});

function client(opts: Partial<RegistryClientOptions> = {}): RegistryClient {
  const c = testRegistryClient({ chunkedUploadThreshold: 10_000, chunkSize: 16_384, ...opts });
  onTestFinished(() => c.close());
  return c;
}

async function fake(rules: FaultRule[] = []): Promise<FakeRegistry> {
  const f = await startFakeRegistry({ upstream: reg.host, rules });
  onTestFinished(() => f.close());
  return f;
}

/** Streams `bytes` in small pieces, as a layer file would arrive. */
function source(bytes: Buffer): () => Promise<Readable> {
  return async () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += 5000) yield bytes.subarray(i, i + 5000);
      })(),
    );
}

async function readBack(c: RegistryClient, host: string, repo: string, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await c.getBlob(host, repo, digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('a small blob is one monolithic PUT', async () => {
  const f = await fake();
  const bytes = randomBytes(5000);
  await client().uploadBlob(
    { registry: f.host, repository: 'chunk/small', digest: sha256Of(bytes) },
    { size: bytes.length, open: source(bytes) },
  );
  expect(f.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  expect(f.requests.filter((r) => r.method === 'PUT').map((r) => r.headers['content-length'])).toEqual(['5000']);
});

test('a large blob goes in PATCH chunks with Content-Range, then an empty PUT', async () => {
  const f = await fake();
  const bytes = randomBytes(40_000);
  const c = client();
  await c.uploadBlob(
    { registry: f.host, repository: 'chunk/large', digest: sha256Of(bytes) },
    { size: bytes.length, open: source(bytes) },
  );
  const patches = f.requests.filter((r) => r.method === 'PATCH');
  expect(patches.map((r) => r.headers['content-range'])).toEqual(['0-16383', '16384-32767', '32768-39999']);
  expect(patches.map((r) => r.headers['content-length'])).toEqual(['16384', '16384', '7232']);
  const put = f.requests.filter((r) => r.method === 'PUT');
  expect(put.map((r) => r.headers['content-length'])).toEqual(['0']);
  expect(put[0]?.url).toContain(`digest=${encodeURIComponent(sha256Of(bytes))}`);
  expect((await readBack(c, reg.host, 'chunk/large', sha256Of(bytes))).equals(bytes)).toBe(true);
});

test('a chunk lost to a reset is resumed from the upload status, after a backoff', async () => {
  let patches = 0;
  const secondPatch: FaultRule = (r) => (r.method === 'PATCH' && ++patches === 2 ? { kind: 'reset' } : undefined);
  const f = await fake([secondPatch]);
  const bytes = randomBytes(40_000);
  const sleep = vi.fn(async (_ms: number) => {});
  const c = client({ sleep });
  await c.uploadBlob(
    { registry: f.host, repository: 'chunk/resumed', digest: sha256Of(bytes) },
    { size: bytes.length, open: source(bytes) },
  );
  expect(sleep.mock.calls.map((x) => x[0])).toEqual([1000]);
  const seen = f.requests
    .filter((r) => r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.headers['content-range'] ?? ''}`.trim());
  expect(seen.slice(-6)).toEqual([
    'PATCH 0-16383',
    'PATCH 16384-32767',
    'GET',
    'PATCH 16384-32767',
    'PATCH 32768-39999',
    'PUT',
  ]);
  expect((await readBack(c, reg.host, 'chunk/resumed', sha256Of(bytes))).equals(bytes)).toBe(true);
});

test('an upload the registry forgot starts over', async () => {
  let patches = 0;
  const f = await fake([
    (r) =>
      r.method === 'PATCH' && ++patches === 2
        ? { kind: 'status', status: 503, headers: { 'retry-after': '0' } }
        : undefined,
    times(1, (r) => r.method === 'GET' && r.url.includes('/blobs/uploads/'), {
      kind: 'status',
      status: 404,
      body: { errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] },
    }),
  ]);
  const bytes = randomBytes(40_000);
  const c = client();
  await c.uploadBlob(
    { registry: f.host, repository: 'chunk/restarted', digest: sha256Of(bytes) },
    { size: bytes.length, open: source(bytes) },
  );
  expect(f.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  expect((await readBack(c, reg.host, 'chunk/restarted', sha256Of(bytes))).equals(bytes)).toBe(true);
});

test.each([
  ['shorter', 39_000],
  ['longer', 41_000],
])('a source %s than declared is an IntegrityError', async (_name, actual) => {
  const f = await fake();
  const bytes = randomBytes(actual);
  const err = await client()
    .uploadBlob(
      { registry: f.host, repository: 'chunk/bad', digest: sha256Of(bytes) },
      { size: 40_000, open: source(bytes) },
    )
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IntegrityError);
  expect((err as Error).message).toMatch(/uploading blob .*: the blob's content is not the declared 40000 bytes/);
});
