/**
 * Kaniko's pull and push policies over the real registry (the fake in front to break things):
 * `--push-retry` and `--image-download-retry` back off 1 s, 2 s, 4 s… after the requests' own
 * retries; `--push-ignore-immutable-tag-errors` turns a known immutable-tag refusal into a warning;
 * a second destination mounts what the first received; mirrors are tried in order, with or
 * without falling back to the original registry. Sleeps are injected and recorded, never real.
 */
import { afterAll, beforeAll, describe, expect, onTestFinished, test, vi } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { resolveRegistryImage, type PullPolicy } from '../../src/image/registry-source.js';
import { pushImage, type PushPolicy } from '../../src/image/registry-sink.js';
import { silentLogger } from '../../src/log.js';
import type { Image } from '../../src/oci/image.js';
import { parseMirror, parseReference } from '../../src/oci/reference.js';
import { RegistryClient } from '../../src/registry/index.js';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';
import { pushBusybox, type BaseImage } from '../support/busybox.js';
import { is, startFakeRegistry, times, type FakeRegistry, type FaultRule } from '../support/fake-registry.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
let base: BaseImage;
const AMD64 = { os: 'linux', architecture: 'amd64' };

beforeAll(async () => {
  reg = await startRegistry();
  base = await pushBusybox(reg);
});

afterAll(async () => {
  await reg?.stop();
});

function client(sleep: (ms: number) => Promise<void> = async () => {}): RegistryClient {
  const c = testRegistryClient({ sleep });
  onTestFinished(() => c.close());
  return c;
}

async function fake(rules: FaultRule[] = []): Promise<FakeRegistry> {
  const f = await startFakeRegistry({ upstream: reg.host, rules });
  onTestFinished(() => f.close());
  return f;
}

async function busybox(c: RegistryClient): Promise<Image> {
  return resolveRegistryImage({ client: c, ref: parseReference(base.ref), platform: AMD64, logger: silentLogger });
}

const unavailable = {
  kind: 'status',
  status: 503,
  body: { errors: [{ code: 'UNAVAILABLE', message: 'down' }] },
} as const;

describe('push policy', () => {
  test("--push-retry retries the whole push after the requests' own retries, with backoff", async () => {
    const f = await fake([times(4, is.manifestPut, unavailable)]);
    const sleep = vi.fn(async (_ms: number) => {});
    const c = client(sleep);
    const image = await busybox(c);
    const policy: PushPolicy = { retries: 2, sleep, ignoreImmutableTagErrors: false };
    const digest = await pushImage({
      client: c,
      image,
      destinations: [parseReference(`${f.host}/policy/retry:1`)],
      logger: silentLogger,
      policy,
    });
    expect(digest).toBe(base.digest);
    // Three request retries (1 s, 2 s, 4 s), then one push retry (1 s).
    expect(sleep.mock.calls.map((x) => x[0])).toEqual([1000, 2000, 4000, 1000]);
    expect(f.requests.filter(is.manifestPut)).toHaveLength(5);
  });

  test('without --push-retry the same failure is reported', async () => {
    const f = await fake([times(4, is.manifestPut, unavailable)]);
    const c = client();
    const err = await pushImage({
      client: c,
      image: await busybox(c),
      destinations: [parseReference(`${f.host}/policy/noretry:1`)],
      logger: silentLogger,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `pushing ${f.host}/policy/noretry:1: registry server error (503 UNAVAILABLE: down)`,
    );
  });

  test('a refusal is not retried, even with --push-retry', async () => {
    const f = await fake([
      times(10, is.manifestPut, { kind: 'status', status: 403, body: { errors: [{ code: 'DENIED', message: 'no' }] } }),
    ]);
    const sleep = vi.fn(async (_ms: number) => {});
    const c = client(sleep);
    const err = await pushImage({
      client: c,
      image: await busybox(c),
      destinations: [parseReference(`${f.host}/policy/denied:1`)],
      logger: silentLogger,
      policy: { retries: 3, sleep, ignoreImmutableTagErrors: false },
    }).catch((e: unknown) => e);
    expect((err as RegistryError).details.status).toBe(403);
    expect(sleep).not.toHaveBeenCalled();
  });

  const IMMUTABLE = {
    errors: [
      {
        code: 'TAG_INVALID',
        message:
          "The image tag '1' already exists in the 'policy/immutable' repository and cannot be overwritten because the repository is immutable.",
      },
    ],
  };

  test('--push-ignore-immutable-tag-errors warns instead of failing', async () => {
    const f = await fake([times(10, is.manifestPut, { kind: 'status', status: 400, body: IMMUTABLE })]);
    const c = client();
    const lines: string[] = [];
    const policy: PushPolicy = { retries: 0, sleep: async () => {}, ignoreImmutableTagErrors: true };
    expect(
      await pushImage({
        client: c,
        image: await busybox(c),
        destinations: [parseReference(`${f.host}/policy/immutable:1`)],
        logger: linesLogger(lines),
        policy,
      }),
    ).toBe(base.digest);
    expect(lines.join('')).toMatch(/WARN .*policy\/immutable:1 is immutable and was not overwritten/);
    const err = await pushImage({
      client: c,
      image: await busybox(c),
      destinations: [parseReference(`${f.host}/policy/immutable:1`)],
      logger: silentLogger,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /bad request \(400 TAG_INVALID: .*cannot be overwritten because the repository is immutable/,
    );
  });

  test('other manifest errors still fail with --push-ignore-immutable-tag-errors', async () => {
    const f = await fake([
      times(10, is.manifestPut, {
        kind: 'status',
        status: 400,
        body: { errors: [{ code: 'MANIFEST_INVALID', message: 'bad' }] },
      }),
    ]);
    const c = client();
    const policy: PushPolicy = { retries: 0, sleep: async () => {}, ignoreImmutableTagErrors: true };
    await expect(
      pushImage({
        client: c,
        image: await busybox(c),
        destinations: [parseReference(`${f.host}/policy/invalid:1`)],
        logger: silentLogger,
        policy,
      }),
    ).rejects.toThrow(/MANIFEST_INVALID/);
  });

  test('several destinations share uploads: the second mounts from the first', async () => {
    const f = await fake();
    const c = client();
    const image = await busybox(c);
    // Layers from another registry have no origin here, so the first destination uploads them.
    const foreign: Image = { ...image, layers: image.layers.map(({ origin: _o, ...l }) => l) };
    await pushImage({
      client: c,
      image: foreign,
      destinations: [parseReference(`${f.host}/share/one:1`), parseReference(`${f.host}/share/two:1`)],
      logger: silentLogger,
    });
    const mounts = f.requests.filter((r) => r.method === 'POST' && r.url.includes('mount='));
    expect(mounts.map((r) => new URL(r.url, 'http://x').searchParams.get('from'))).toEqual(['share/one', 'share/one']);
    expect(mounts.every((r) => r.url.startsWith('/v2/share/two/'))).toBe(true);
  });
});

describe('pull policy', () => {
  const policy = (p: Partial<PullPolicy>): PullPolicy => ({
    mirrors: () => [],
    skipDefaultFallback: false,
    retries: 0,
    sleep: async () => {},
    ...p,
  });

  test('--image-download-retry retries resolving the image', async () => {
    const f = await fake([times(4, is.manifestGet, unavailable)]);
    const sleep = vi.fn(async (_ms: number) => {});
    const c = client(sleep);
    const image = await resolveRegistryImage({
      client: c,
      ref: parseReference(`${f.host}/base/busybox`),
      platform: AMD64,
      logger: silentLogger,
      policy: policy({ retries: 1, sleep }),
    });
    expect(image.manifestBytes.length).toBeGreaterThan(0);
    expect(sleep.mock.calls.map((x) => x[0])).toEqual([1000, 2000, 4000, 1000]);
  });

  test('a mirror is tried first, and the image comes from it', async () => {
    const c = client();
    const lines: string[] = [];
    const image = await resolveRegistryImage({
      client: c,
      ref: parseReference('127.0.0.1:1/base/busybox'),
      platform: AMD64,
      logger: linesLogger(lines),
      policy: policy({ mirrors: (r) => (r === '127.0.0.1:1' ? [parseMirror(reg.host)] : []) }),
    });
    expect(image.layers[0]?.origin).toEqual({ registry: reg.host, repository: 'base/busybox' });
    expect(lines.join('')).toContain(`retrieving image ${reg.host}/base/busybox:latest from mirror ${reg.host}`);
  });

  test('a failing mirror falls back to the next, then to the original registry', async () => {
    const c = client();
    const lines: string[] = [];
    const mirrors = [parseMirror('127.0.0.1:1'), parseMirror(`${reg.host}/nothing-here`)];
    const image = await resolveRegistryImage({
      client: c,
      ref: parseReference(base.ref),
      platform: AMD64,
      logger: linesLogger(lines),
      policy: policy({ mirrors: () => mirrors }),
    });
    expect(image.layers[0]?.origin?.registry).toBe(reg.host);
    expect(lines.filter((l) => l.startsWith('WARN could not pull'))).toHaveLength(2);
  });

  test('--skip-default-registry-fallback fails when every mirror failed', async () => {
    const c = client();
    const err = await resolveRegistryImage({
      client: c,
      ref: parseReference(base.ref),
      platform: AMD64,
      logger: silentLogger,
      policy: policy({ mirrors: () => [parseMirror('127.0.0.1:1')], skipDefaultFallback: true }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(`${base.ref}: not found on any mirror of ${reg.host} (127.0.0.1:1)`);
  });
});
