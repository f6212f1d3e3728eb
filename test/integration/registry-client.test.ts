/**
 * The registry client against the real CNCF distribution registry (Debian `docker-registry`)
 * on 127.0.0.1, without auth: blobs, mounts, manifests by tag and digest, and error wording.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { IntegrityError, RegistryError } from '../../src/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { parseReference } from '../../src/oci/reference.js';
import { RegistryClient } from '../../src/registry/index.js';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
let client: RegistryClient;

function newClient(opts: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  return testRegistryClient({ logger: linesLogger([], 'trace'), insecure: (r) => r === reg.host, ...opts });
}

beforeAll(async () => {
  reg = await startRegistry();
  client = newClient();
});

afterAll(async () => {
  await client?.close();
  await reg?.stop();
});

async function push(repo: string, bytes: Buffer): Promise<{ digest: `sha256:${string}`; size: number }> {
  const blob = { digest: sha256Of(bytes), size: bytes.length };
  await client.uploadBlob(
    { registry: reg.host, repository: repo, digest: blob.digest },
    { size: blob.size, open: async () => Readable.from([bytes]) },
  );
  return blob;
}

async function pushImage(repo: string, tag: string): Promise<{ manifest: Buffer; digest: string; layer: string }> {
  const config = await push(
    repo,
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })),
  );
  const layer = await push(repo, Buffer.from(`layer of ${repo}`));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...config },
      layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }],
    }),
  );
  const digest = await client.putManifest(
    { registry: reg.host, repository: repo, tagOrDigest: tag },
    { bytes: manifest, mediaType: MediaType.ociManifest },
  );
  return { manifest, digest, layer: layer.digest };
}

describe('blobs', () => {
  test('upload, HEAD and GET round-trip the bytes', async () => {
    const bytes = Buffer.from('hello, registry\n');
    const digest = sha256Of(bytes);
    expect(await client.hasBlob(reg.host, 'blobs/roundtrip', digest)).toBe(false);
    await client.uploadBlob(
      { registry: reg.host, repository: 'blobs/roundtrip', digest },
      { size: bytes.length, open: async () => Readable.from([bytes]) },
    );
    expect(await client.hasBlob(reg.host, 'blobs/roundtrip', digest)).toBe(true);
    const body = await client.getBlob(reg.host, 'blobs/roundtrip', digest);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello, registry\n');
  });

  test('streams a large blob without buffering it', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const count = 24;
    const hash = createHash('sha256');
    for (let i = 0; i < count; i++) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const open = async (): Promise<Readable> =>
      Readable.from(
        (function* () {
          for (let i = 0; i < count; i++) yield chunk;
        })(),
      );
    await client.uploadBlob(
      { registry: reg.host, repository: 'blobs/large', digest },
      { size: chunk.length * count, open },
    );
    let size = 0;
    const verify = createHash('sha256');
    for await (const c of await client.getBlob(reg.host, 'blobs/large', digest)) {
      size += (c as Buffer).length;
      verify.update(c as Buffer);
    }
    expect(size).toBe(chunk.length * count);
    expect(`sha256:${verify.digest('hex')}`).toBe(digest);
  });

  test('a stream shorter than the declared size is an IntegrityError', async () => {
    const bytes = Buffer.from('short');
    const err = await client
      .uploadBlob(
        { registry: reg.host, repository: 'blobs/short', digest: sha256Of(bytes) },
        { size: bytes.length + 10, open: async () => Readable.from([bytes]) },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(
      /uploading blob .*blobs\/short@sha256:[0-9a-f]{64}: the blob's content is not the declared 15 bytes/,
    );
  });

  test('content that does not match the digest is refused by the registry', async () => {
    const bytes = Buffer.from('actual');
    const err = await client
      .uploadBlob(
        { registry: reg.host, repository: 'blobs/wrong', digest: sha256Of('claimed') },
        { size: bytes.length, open: async () => Readable.from([bytes]) },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).details).toMatchObject({
      registry: reg.host,
      repository: 'blobs/wrong',
      status: 400,
      codes: ['DIGEST_INVALID'],
    });
    expect((err as Error).message).toMatch(/^uploading blob .*: bad request \(400 DIGEST_INVALID/);
  });

  test('a missing blob is "not found: blob unknown"', async () => {
    await push('blobs/exists', Buffer.from('x'));
    const err = await client.getBlob(reg.host, 'blobs/exists', sha256Of('never pushed')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `fetching blob ${reg.host}/blobs/exists@${sha256Of('never pushed')}: not found: blob unknown (404 BLOB_UNKNOWN: blob unknown to registry)`,
    );
  });

  test('mounts a blob across repositories', async () => {
    const blob = await push('mount/src', Buffer.from('shared layer'));
    expect(await client.hasBlob(reg.host, 'mount/dst', blob.digest)).toBe(false);
    expect(
      await client.mountBlob({ registry: reg.host, repository: 'mount/dst', digest: blob.digest }, 'mount/src'),
    ).toBe(true);
    expect(await client.hasBlob(reg.host, 'mount/dst', blob.digest)).toBe(true);
  });

  test('a mount the registry cannot do returns false (and cancels the upload it started)', async () => {
    await push('mount/other', Buffer.from('unrelated'));
    expect(
      await client.mountBlob(
        { registry: reg.host, repository: 'mount/dst2', digest: sha256Of('absent everywhere') },
        'mount/other',
      ),
    ).toBe(false);
  });
});

describe('manifests', () => {
  test('put by tag, get by tag and by digest, head', async () => {
    const { manifest, digest } = await pushImage('app/one', '1');
    expect(digest).toBe(sha256Of(manifest));
    const byTag = await client.getManifest(parseReference(`${reg.host}/app/one:1`));
    expect(byTag).toEqual({ bytes: manifest, mediaType: MediaType.ociManifest, digest });
    const byDigest = await client.getManifest(parseReference(`${reg.host}/app/one@${digest}`));
    expect(byDigest.bytes.equals(manifest)).toBe(true);
    expect(await client.headManifest(parseReference(`${reg.host}/app/one:1`))).toEqual({
      digest,
      mediaType: MediaType.ociManifest,
      size: manifest.length,
    });
    expect(await client.headManifest(parseReference(`${reg.host}/app/one:absent`))).toBeUndefined();
  });

  test('put by digest, and an index referring to it', async () => {
    const { manifest, digest } = await pushImage('app/index', 'tmp');
    expect(
      await client.putManifest(
        { registry: reg.host, repository: 'app/index', tagOrDigest: digest },
        { bytes: manifest, mediaType: MediaType.ociManifest },
      ),
    ).toBe(digest);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          {
            mediaType: MediaType.ociManifest,
            digest,
            size: manifest.length,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      }),
    );
    const indexDigest = await client.putManifest(
      { registry: reg.host, repository: 'app/index', tagOrDigest: 'multi' },
      { bytes: index, mediaType: MediaType.ociIndex },
    );
    const got = await client.getManifest(parseReference(`${reg.host}/app/index:multi`));
    expect(got).toEqual({ bytes: index, mediaType: MediaType.ociIndex, digest: indexDigest });
  });

  test('a missing tag is "not found: manifest unknown" naming the ref', async () => {
    await pushImage('app/missing', '1');
    const err = await client.getManifest(parseReference(`${reg.host}/app/missing:nope`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `fetching manifest ${reg.host}/app/missing:nope: not found: manifest unknown (404 MANIFEST_UNKNOWN)`,
    );
    expect((err as RegistryError).details).toEqual({
      registry: reg.host,
      repository: 'app/missing',
      status: 404,
      codes: ['MANIFEST_UNKNOWN'],
    });
    expect((err as RegistryError).exitCode).toBe(4);
  });

  test('a manifest referring to missing blobs is refused', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: sha256Of('nope'), size: 4 },
        layers: [],
      }),
    );
    const err = await client
      .putManifest(
        { registry: reg.host, repository: 'app/broken', tagOrDigest: '1' },
        { bytes: manifest, mediaType: MediaType.ociManifest },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(
      new RegExp(`^pushing ${reg.host}/app/broken:1: bad request \\(400 MANIFEST_BLOB_UNKNOWN`),
    );
  });
});

describe('connection', () => {
  test('checkPushAccess succeeds on an open registry', async () => {
    await expect(client.checkPushAccess(reg.host, 'app/push-check')).resolves.toBeUndefined();
  });

  test('a loopback registry falls back to plain HTTP even without --insecure (as go-containerregistry does)', async () => {
    const c = newClient({ insecure: () => false });
    try {
      await pushImage('app/plain', '1');
      expect((await c.getManifest(parseReference(`${reg.host}/app/plain:1`))).mediaType).toBe(MediaType.ociManifest);
    } finally {
      await c.close();
    }
  });

  test('an unreachable registry says so', async () => {
    const port = await freePort();
    const c = newClient();
    try {
      const err = await c.getManifest(parseReference(`127.0.0.1:${port}/app:1`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryError);
      expect((err as Error).message).toBe(
        `fetching manifest 127.0.0.1:${port}/app:1: cannot reach registry 127.0.0.1:${port}: connection refused`,
      );
      expect((err as RegistryError).details).toEqual({ registry: `127.0.0.1:${port}`, repository: 'app' });
    } finally {
      await c.close();
    }
  });

  test('requests are logged at debug with method, URL and status; the HTTP fallback too', async () => {
    const lines: string[] = [];
    const c = newClient({ logger: linesLogger(lines, 'trace') });
    try {
      await c.hasBlob(reg.host, 'app/logged', sha256Of('x'));
    } finally {
      await c.close();
    }
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^DEBUG registry 127\.0\.0\.1:\d+ does not answer over HTTPS \(TLS handshake failed: .*\); using plain HTTP/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^DEBUG registry request method=HEAD url=http:\/\/127\.0\.0\.1:\d+\/v2\/app\/logged\/blobs\/sha256:[0-9a-f]{64} status=404/,
      ),
    );
  });
});
