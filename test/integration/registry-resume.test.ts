/**
 * Pull-side faults through the in-process fake in front of the real registry: a connection reset
 * in the middle of a blob and a body that ends short are resumed with a Range request (no wait:
 * bytes were flowing); a server that ignores Range is read again and the delivered bytes
 * skipped; endless breaks give up with a RegistryError; a corrupted layer fails verification
 * before anything is extracted.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, onTestFinished, test, vi } from 'vitest';
import { BlobStore } from '../../src/cache/blob-store.js';
import { IntegrityError, RegistryError } from '../../src/errors.js';
import { unpackBase } from '../../src/executor/base.js';
import { resolveRegistryImage } from '../../src/image/registry-source.js';
import { silentLogger } from '../../src/log.js';
import { parseReference } from '../../src/oci/reference.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { Rootfs } from '../../src/rootfs/rootfs.js';
import { verifyDigest } from '../../src/stream/verify.js';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';
import { pushBusybox, type BaseImage } from '../support/busybox.js';
import { tempDir } from '../support/executor.js';
import { is, startFakeRegistry, times, type FakeRegistry, type FaultRule } from '../support/fake-registry.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
let base: BaseImage;

beforeAll(async () => {
  reg = await startRegistry();
  base = await pushBusybox(reg);
});

afterAll(async () => {
  await reg?.stop();
});

function client(opts: Partial<RegistryClientOptions> = {}, lines: string[] = []): RegistryClient {
  const c = testRegistryClient({ logger: linesLogger(lines), ...opts });
  onTestFinished(() => c.close());
  return c;
}

async function fake(rules: FaultRule[]): Promise<FakeRegistry> {
  const f = await startFakeRegistry({ upstream: reg.host, rules });
  onTestFinished(() => f.close());
  return f;
}

const layer = (): { digest: string } => ({ digest: base.layers[0] ?? '' });

/** Reads the base layer through `c` from `host`, verified; returns its sha256. */
async function pullLayer(c: RegistryClient, host: string): Promise<string> {
  const image = await resolveRegistryImage({
    client: c,
    ref: parseReference(`${host}/base/busybox`),
    platform: { os: 'linux', architecture: 'amd64' },
    logger: silentLogger,
  });
  const l = image.layers[0];
  if (!l) throw new Error('no layer');
  const hash = createHash('sha256');
  await pipeline(
    await l.open(),
    verifyDigest(l.descriptor, 'layer'),
    new Writable({ write: (c: Buffer, _e, cb) => (hash.update(c), cb()) }),
  );
  return `sha256:${hash.digest('hex')}`;
}

test.each([
  ['a reset in the middle of the body', 'reset-mid-body' as const],
  ['a body that ends cleanly but short', 'truncate' as const],
])('%s is resumed with a Range request, at once', async (_name, kind) => {
  const f = await fake([times(1, is.blobGet(layer().digest), { kind, after: 300_000 })]);
  const sleep = vi.fn(async () => {});
  const lines: string[] = [];
  expect(await pullLayer(client({ sleep }, lines), f.host)).toBe(layer().digest);
  const ranges = f.requests.filter(is.blobGet(layer().digest)).map((r) => r.headers.range);
  expect(ranges).toHaveLength(2);
  expect(ranges[0]).toBeUndefined();
  // A reset may lose bytes already sent (TCP discards them): resumption starts at what arrived.
  const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
  if (kind === 'truncate') expect(from).toBe(300_000);
  else expect(from > 0 && from <= 300_000).toBe(true);
  expect(sleep).not.toHaveBeenCalled();
  expect(lines.join('')).toMatch(new RegExp(`WARN resuming the download of sha256:[0-9a-f]{64} at byte ${from}`));
});

test('breaks without end give up after the retries with a RegistryError', async () => {
  const f = await fake([times(100, is.blobGet(layer().digest), { kind: 'reset-mid-body', after: 1000 })]);
  const err = await pullLayer(client(), f.host).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).exitCode).toBe(4);
  expect((err as Error).message).toMatch(
    new RegExp(
      `^fetching blob ${f.host}/base/busybox@${layer().digest}: .* at byte \\d+ of \\d+ \\(gave up after 3 retries\\)$`,
    ),
  );
});

test('a server that ignores Range is read again from the start, the delivered bytes skipped', async () => {
  const blob = Buffer.alloc(200_000, 7);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const ranges: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    ranges.push(req.headers.range);
    res.writeHead(200, { 'content-length': String(blob.length) });
    if (ranges.length === 1) res.write(blob.subarray(0, 50_000), () => res.socket?.destroy());
    else res.end(blob);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const addr = server.address();
  const host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const body = await client().getBlob(host, 'app', { digest, size: blob.length });
  const hash = createHash('sha256');
  await pipeline(
    body,
    verifyDigest({ digest, size: blob.length }, 'blob'),
    new Writable({ write: (c: Buffer, _e, cb) => (hash.update(c), cb()) }),
  );
  expect(`sha256:${hash.digest('hex')}`).toBe(digest);
  expect(ranges).toEqual([undefined, 'bytes=50000-']);
});

test('a corrupted layer fails with an IntegrityError and nothing is extracted', async () => {
  const f = await fake([times(10, is.blobGet(layer().digest), { kind: 'corrupt' })]);
  const c = client();
  const image = await resolveRegistryImage({
    client: c,
    ref: parseReference(`${f.host}/base/busybox`),
    platform: { os: 'linux', architecture: 'amd64' },
    logger: silentLogger,
  });
  const work = await tempDir('corrupt');
  const rootfs = new Rootfs(join(work, 'rootfs'));
  await mkdir(rootfs.root);
  const store = new BlobStore(join(work, 'blobs'));
  const err = await unpackBase(image, rootfs, {
    imageName: `${f.host}/base/busybox`,
    store,
    logger: silentLogger,
    signal: new AbortController().signal,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IntegrityError);
  expect((err as Error).message).toMatch(/digest mismatch, expected sha256:[0-9a-f]{64}, got sha256:/);
  expect(await readdir(rootfs.root)).toEqual([]);
  expect(await store.has(layer().digest as `sha256:${string}`)).toBe(false);
});
