/**
 * Issue 5 end to end, faults: the executor pulls and pushes through the in-process fake in front
 * of the real registry, which injects 503s, 429s, resets and short bodies in the middle of a
 * blob, a corrupted layer, a redirect to another host, and manifest refusals. The fake's
 * Retry-After is 0 so that the executor's retries never wait for real (the waits themselves are
 * asserted in test/integration/registry-policy.test.ts with an injected sleep).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import {
  is,
  startFakeRegistry,
  times,
  type FakeRegistry,
  type FakeRegistryOptions,
  type FaultRule,
} from '../support/fake-registry.js';
import { inspectImage } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

async function fake(rules: FaultRule[], opts: Partial<FakeRegistryOptions> = {}): Promise<FakeRegistry> {
  const f = await startFakeRegistry({ upstream: env.reg.host, rules, ...opts });
  onTestFinished(() => f.close());
  return f;
}

/** A context copying hello.txt, and with `big` also 6 MiB of random bytes (a layer big enough to stream while it is built). */
async function context(big = false): Promise<string> {
  const ctx = await tempDir('faults-ctx');
  await writeFile(join(ctx, 'Dockerfile'), `ARG BASE\nFROM \${BASE}\nCOPY hello.txt ${big ? 'big.bin ' : ''}/\n`);
  await writeFile(join(ctx, 'hello.txt'), 'despite faults\n');
  if (big) await writeFile(join(ctx, 'big.bin'), randomBytes(6 << 20));
  return ctx;
}

/** Builds FROM the busybox base as served by `from` (the fake), with `--no-push` unless flags say otherwise. */
async function build(
  from: FakeRegistry,
  flags: string[] = ['--no-push'],
  extraEnv: Record<string, string> = {},
  big = false,
): Promise<ExecutorResult> {
  return runExecutor(
    [
      '--context',
      await context(big),
      '--build-arg',
      `BASE=${from.host}/base/busybox`,
      '--insecure',
      '--insecure-pull',
      '-v',
      'debug',
      ...flags,
    ],
    { env: extraEnv },
  );
}

function ok(r: ExecutorResult): void {
  expect(r.stderr, r.stderr).not.toMatch(/internal error/);
  expect(r.exitCode, r.stderr).toBe(0);
}

const layer = (): string => env.base.layers[0] ?? '';
const later = { 'retry-after': '0' };

describe('pulling through faults', () => {
  test('503 then success', async () => {
    const f = await fake([
      times(1, is.manifestGet, {
        kind: 'status',
        status: 503,
        headers: later,
        body: { errors: [{ code: 'UNAVAILABLE', message: 'down' }] },
      }),
    ]);
    const r = await build(f);
    ok(r);
    expect(f.requests.filter(is.manifestGet)).toHaveLength(2);
    expect(r.stderr).toMatch(
      /WARN retrying in 0 ms: fetching manifest .*registry server error \(503 UNAVAILABLE: down\)/,
    );
  });

  test('429 with Retry-After is honoured', async () => {
    const f = await fake([
      times(1, is.blobGet(), {
        kind: 'status',
        status: 429,
        headers: later,
        body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] },
      }),
    ]);
    const r = await build(f);
    ok(r);
    expect(r.stderr).toMatch(
      /WARN retrying in 0 ms: fetching blob .*too many requests \(429 TOOMANYREQUESTS: slow down\)/,
    );
  });

  test.each([
    ['a connection reset in the middle of a blob', 'reset-mid-body' as const],
    ['a truncated body', 'truncate' as const],
  ])('%s is resumed where it stopped', async (_name, kind) => {
    const f = await fake([times(1, is.blobGet(layer()), { kind, after: 300_000 })]);
    const r = await build(f);
    ok(r);
    const ranges = f.requests.filter(is.blobGet(layer())).map((q) => q.headers.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    // A reset may lose bytes already sent (TCP discards them): resumption starts at what arrived.
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    if (kind === 'truncate') expect(from).toBe(300_000);
    else expect(from > 0 && from <= 300_000).toBe(true);
  });

  test('a wrong digest exits 5 and nothing is extracted', async () => {
    const f = await fake([times(10, is.blobGet(layer()), { kind: 'corrupt' })]);
    const r = await build(f);
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`^error: .*layer ${layer()} of ${f.host}/base/busybox.*digest mismatch`, 'm'));
    expect(r.stderr).not.toMatch(/extracting layer/);
  });

  test('a redirect to another host never carries the Authorization header there', async () => {
    const storage = await fake([]);
    const f = await fake([(q) => (is.blobGet()(q) ? { kind: 'redirect', origin: storage.origin } : undefined)], {
      basicAuth: { username: 'u', password: 'Redirect-Secret-1' },
    });
    const cfg = await tempDir('redirect-cfg');
    await writeFile(
      join(cfg, 'config.json'),
      JSON.stringify({ auths: { [f.host]: { auth: Buffer.from('u:Redirect-Secret-1').toString('base64') } } }),
    );
    const r = await build(f, ['--no-push'], { DOCKER_CONFIG: cfg });
    ok(r);
    expect(f.requests.filter(is.blobGet()).every((q) => q.headers.authorization?.startsWith('Basic '))).toBe(true);
    expect(storage.requests.filter(is.blobGet()).length).toBeGreaterThanOrEqual(2); // config and layer
    expect(storage.requests.every((q) => q.headers.authorization === undefined)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain('Redirect-Secret-1');
  });

  test("--image-download-retry retries the image after the requests' own retries", async () => {
    const down = { kind: 'status', status: 503, headers: later } as const;
    const without = await build(await fake([times(4, is.manifestGet, down)]));
    expect(without.exitCode, without.stderr).toBe(4);
    const f = await fake([times(4, is.manifestGet, down)]);
    ok(await build(f, ['--no-push', '--image-download-retry', '1']));
    expect(f.requests.filter(is.manifestGet)).toHaveLength(5);
  });
});

describe('pushing through faults', () => {
  const down = {
    kind: 'status',
    status: 503,
    headers: later,
    body: { errors: [{ code: 'UNAVAILABLE', message: 'down' }] },
  } as const;
  /** The PATCH that streams a new layer while it is built: no Content-Range. */
  const streamingPatch = (r: { method: string; headers: Record<string, unknown> }): boolean =>
    r.method === 'PATCH' && r.headers['content-range'] === undefined;

  test('a small new layer is uploaded after the build, not streamed', async () => {
    const f = await fake([]);
    const r = await build(f, ['--destination', `${f.host}/faults/small:1`]);
    ok(r);
    expect(f.requests.filter(streamingPatch)).toHaveLength(0);
    expect(r.stderr).not.toMatch(/uploaded while it was built/);
  });

  test('a big new layer streams to the destination while it is built; the push then only adds the manifest', async () => {
    const f = await fake([]);
    const dest = `${f.host}/faults/stream:1`;
    const r = await build(f, ['--destination', dest], {}, true);
    ok(r);
    expect(r.stderr).toMatch(/DEBUG layer uploaded while it was built destination=.*faults\/stream:1/);
    expect(f.requests.filter(streamingPatch)).toHaveLength(1);
    // The layer was not uploaded a second time: one upload session for it, one for the config.
    const puts = f.requests.filter((q) => q.method === 'PUT' && q.url.includes('/blobs/uploads/'));
    expect(puts).toHaveLength(2);
    const image = await inspectImage({ registry: `${env.reg.host}/faults/stream:1` });
    onTestFinished(() => image.cleanup());
    expect(await image.readFile('/hello.txt')).toBe('despite faults\n');
  });

  for (const [what, fault] of [
    ['refused', down],
    ['reset', { kind: 'reset' }],
  ] as const) {
    test(`a streaming upload that is ${what} falls back to the ordinary push of the stored layer`, async () => {
      const f = await fake([times(1, streamingPatch, fault)]);
      const dest = `${f.host}/faults/fallback-${what}:1`;
      const r = await build(f, ['--destination', dest], {}, true);
      ok(r);
      expect(r.stderr).toMatch(/DEBUG streaming the new layer to the registry failed; it is pushed after the build/);
      expect(r.stderr).toMatch(/DEBUG uploading blob destination=.*fallback/);
      const image = await inspectImage({ registry: `${env.reg.host}/faults/fallback-${what}:1` });
      onTestFinished(() => image.cleanup());
      expect(await image.readFile('/hello.txt')).toBe('despite faults\n');
    });
  }

  test("--push-retry pushes again after the requests' own retries failed", async () => {
    const f = await fake([times(4, is.manifestPut, down)]);
    const dest = `${f.host}/faults/retry:1`;
    const without = await build(f, ['--destination', dest]);
    expect(without.exitCode, without.stderr).toBe(4);
    expect(without.stderr).toMatch(
      new RegExp(`^error: pushing ${dest}: registry server error \\(503 UNAVAILABLE: down\\)`, 'm'),
    );
    const g = await fake([times(4, is.manifestPut, down)]);
    const r = await build(g, ['--destination', `${g.host}/faults/retry:1`, '--push-retry=2']);
    ok(r);
    expect(r.stderr).toMatch(/WARN push failed, retrying in 0 ms \(--push-retry\)/);
    const image = await inspectImage({ registry: `${env.reg.host}/faults/retry:1` });
    onTestFinished(() => image.cleanup());
    expect(await image.readFile('/hello.txt')).toBe('despite faults\n');
  });

  test('--push-ignore-immutable-tag-errors: an immutable tag is a warning, not a failure', async () => {
    const immutable = {
      kind: 'status',
      status: 400,
      body: {
        errors: [
          {
            code: 'TAG_INVALID',
            message:
              "The image tag '1' already exists in the 'faults/immutable' repository and cannot be overwritten because the repository is immutable.",
          },
        ],
      },
    } as const;
    const f = await fake([times(100, is.manifestPut, immutable)]);
    const dest = `${f.host}/faults/immutable:1`;
    const without = await build(f, ['--destination', dest]);
    expect(without.exitCode, without.stderr).toBe(4);
    expect(without.stderr).toMatch(/^error: pushing .*TAG_INVALID.*repository is immutable/m);
    const r = await build(f, ['--destination', dest, '--push-ignore-immutable-tag-errors']);
    ok(r);
    expect(r.stderr).toMatch(/WARN .*faults\/immutable:1 is immutable and was not overwritten/);
  });
});
