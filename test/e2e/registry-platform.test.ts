/**
 * Issue 5 end to end, what gets pulled: a 2-platform index in the real registry (busybox's layer
 * under an amd64 and an arm64 config, pushed by skopeo from an OCI layout made here) built FROM
 * with `--custom-platform`, an absent platform listing what exists, and mirrors —
 * `--registry-mirror` for Docker Hub names, `--registry-map` / `KANIKO_REGISTRY_MAP` for any
 * registry — tried in order, with and without falling back to the original registry.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { makeBusyboxLayout, pushBusybox } from '../support/busybox.js';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { skopeo } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes busybox as a 2-platform index (linux/amd64, linux/arm64/v8) to `base/multi:1`. */
async function pushMultiPlatform(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-multi-layout-'));
  try {
    return await writeAndPush(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeAndPush(dir: string): Promise<string> {
  const single = await makeBusyboxLayout(dir, 'single');
  const manifestOf = JSON.parse((await readFile(join(dir, 'blobs', 'sha256', single.digest.slice(7)))).toString()) as {
    layers: unknown[];
  };
  const blob = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    await writeFile(join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const entries = [];
  for (const platform of [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux', variant: 'v8' },
  ]) {
    const config = await blob(Buffer.from(JSON.stringify({ ...single.config, ...platform })));
    const manifest = await blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: manifestOf.layers,
        }),
      ),
    );
    entries.push({ mediaType: OCI_MANIFEST, ...manifest, platform });
  }
  const index = await blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries })));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_INDEX, ...index, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
    }),
  );
  const ref = `${env.reg.host}/base/multi:1`;
  await skopeo([
    'copy',
    '--quiet',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${dir}:multi`,
    `docker://${ref}`,
  ]);
  return ref;
}

let multi: string;
beforeAll(async () => {
  multi = await pushMultiPlatform();
  // Docker Hub's official busybox, as a mirror holds it.
  await pushBusybox(env.reg, 'library/busybox', 'latest');
});

async function context(from: string): Promise<string> {
  const ctx = await tempDir('platform-ctx');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${from}\nCOPY hello.txt /hello.txt\nENV PICKED=yes\n`);
  await writeFile(join(ctx, 'hello.txt'), 'picked\n');
  return ctx;
}

async function build(from: string, flags: string[], extraEnv: Record<string, string> = {}): Promise<ExecutorResult> {
  return runExecutor(['--context', await context(from), '--insecure', '--insecure-pull', ...flags], { env: extraEnv });
}

describe('a 2-platform index', () => {
  test('--custom-platform=linux/arm64 selects the arm64 image', async () => {
    const dest = `${env.reg.host}/platform/arm:1`;
    const r = await build(multi, ['--custom-platform=linux/arm64', '--destination', dest]);
    expect(r.exitCode, r.stderr).toBe(0);
    const image = await inspectForTest(dest);
    expect(image.config.architecture).toBe('arm64');
    expect(image.layers[0]).toBe(env.base.layers[0]);
    expect(await image.readFile('/hello.txt')).toBe('picked\n');
  });

  test("FROM --platform picks a stage's base platform, while TARGETARCH stays the build's target platform", async () => {
    const ctx = await tempDir('from-platform');
    await writeFile(
      join(ctx, 'Dockerfile'),
      `FROM --platform=linux/arm64 ${multi} AS arm\nARG TARGETARCH\nENV SEEN=$TARGETARCH\nFROM --platform=$BUILDPLATFORM ${multi}\nCOPY --from=arm /bin/busybox /arm-busybox\n`,
    );
    const dest = `${env.reg.host}/platform/from-flag:1`;
    const r = await runExecutor([
      '--context',
      ctx,
      '--insecure',
      '--insecure-pull',
      '--destination',
      dest,
      '--target',
      'arm',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const image = await inspectForTest(dest);
    expect(image.config.architecture).toBe('arm64');
    expect(image.config.config?.Env).toContain(`SEEN=${process.arch === 'arm64' ? 'arm64' : 'amd64'}`);
  });

  test('an absent platform exits 4 listing the ones that exist', async () => {
    const r = await build(multi, ['--custom-platform=linux/s390x', '--no-push']);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: ${multi} has no image for platform linux/s390x \\(available: linux/amd64, linux/arm64/v8\\)`,
        'm',
      ),
    );
  });
});

describe('mirrors', () => {
  test('--registry-mirror serves Docker Hub names (no fallback, so docker.io is never asked)', async () => {
    const r = await build('busybox', [
      '--no-push',
      '--registry-mirror',
      env.reg.host,
      '--skip-default-registry-fallback',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`retrieving image ${env.reg.host}/library/busybox:latest from mirror ${env.reg.host}`);
  });

  test('KANIKO_REGISTRY_MIRROR does the same', async () => {
    const r = await build('busybox:latest', ['--no-push', '--skip-default-registry-fallback'], {
      KANIKO_REGISTRY_MIRROR: env.reg.host,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`from mirror ${env.reg.host}`);
  });

  test('a failing --registry-map mirror falls back to the original registry', async () => {
    const r = await build(env.base.ref, ['--no-push', '--registry-map', `${env.reg.host}=127.0.0.1:1`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `WARN could not pull 127\\.0\\.0\\.1:1/base/busybox:latest from mirror 127\\.0\\.0\\.1:1: .*trying the next mirror, or ${env.reg.host}`,
      ),
    );
  });

  test('KANIKO_REGISTRY_MAP with --skip-default-registry-fallback fails when every mirror failed', async () => {
    const r = await build(env.base.ref, ['--no-push', '--skip-default-registry-fallback'], {
      KANIKO_REGISTRY_MAP: `${env.reg.host}=127.0.0.1:1;${env.reg.host}=${env.reg.host}/nothing`,
    });
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: ${env.base.ref}: not found on any mirror of ${env.reg.host} \\(127\\.0\\.0\\.1:1, ${env.reg.host}/nothing\\)`,
        'm',
      ),
    );
  });
});
