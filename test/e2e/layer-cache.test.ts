/**
 * Issue 15 end to end: `executor --cache` against the real registry. A cache repository on the TLS
 * registry with htpasswd (inferred from the destination, as Kaniko infers REPO/cache), rebuilt
 * from a fresh pod: every step hits, nothing runs or is downloaded, and with --reproducible the
 * digest is the cold build's. `--cache-repo oci:DIR`. `--no-push-cache` stores nothing. Two builds
 * at once into one cache repository. A new base digest misses everything. A blob corrupted in the
 * registry's storage is a warning, its step is built again, and the image is a cold build's.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pushBusybox } from '../support/busybox.js';
import { issueCert, makeCa } from '../support/certs.js';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { skopeo } from '../support/run.js';

const USER = 'cache-builder';
const PASSWORD = 'Cache-Build3r-Pw';

let dir: string;
let plain: TestRegistry;
let secure: TestRegistry;
let caFile: string;
let dockerConfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-cache-'));
  const ca = await makeCa(dir);
  const server = await issueCert(ca, dir, 'registry', 'server');
  caFile = ca.cert;
  const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', USER, PASSWORD]);
  await writeFile(join(dir, 'htpasswd'), stdout);
  [plain, secure] = await Promise.all([
    startRegistry(),
    startRegistry({
      extraHttp: ['  tls:', `    certificate: ${server.cert}`, `    key: ${server.key}`].join('\n'),
      extraConfig: ['auth:', '  htpasswd:', '    realm: kiln-cache', `    path: ${join(dir, 'htpasswd')}`].join('\n'),
      tls: { ca: ca.certPem },
    }),
  ]);
  await pushBusybox(plain);
  dockerConfig = join(dir, 'docker');
  await promisify(execFile)('mkdir', ['-p', dockerConfig]);
  const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secure.host]: { auth } } }));
}, 60_000);

afterAll(async () => {
  await Promise.all([plain?.stop(), secure?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const DOCKERFILE = (base: string): string => `FROM ${base}
WORKDIR /app
COPY app.txt ./
RUN mkdir -p gen && for i in $(seq 1 200); do echo "$i" > gen/$i.txt; done && cat app.txt > copy.txt
COPY later.txt ./
RUN cat copy.txt later.txt > all.txt
`;

/** A context with the Dockerfile over `base` and its two files. */
async function context(base: string, later = 'later\n'): Promise<string> {
  const ctx = await tempDir('cache-ctx');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE(base));
  await writeFile(join(ctx, 'app.txt'), 'app\n');
  await writeFile(join(ctx, 'later.txt'), later);
  return ctx;
}

/** One build from a fresh pod (a fresh --kaniko-dir), with the cache flags given. */
async function build(ctx: string, flags: string[]): Promise<ExecutorResult & { verdicts: string[]; digest: string }> {
  const kaniko = await tempDir('cache-pod');
  const r = await runExecutor(
    [
      '--context',
      ctx,
      '--kaniko-dir',
      kaniko,
      '--insecure-registry',
      plain.host,
      '--registry-certificate',
      `${secure.host}=${caFile}`,
      '--reproducible',
      '--cache=true',
      '--cache-copy-layers',
      ...flags,
    ],
    { env: { DOCKER_CONFIG: dockerConfig } },
  );
  const verdicts = [...r.stderr.matchAll(/cache (hit|miss) [0-9a-f]{12}(?!:)/g)].map((m) => m[1] ?? '');
  return { ...r, verdicts, digest: r.stdout.trim().split('\n').at(-1) ?? '' };
}

const ALL_MISS = ['miss', 'miss', 'miss', 'miss', 'miss'];
const ALL_HIT = ['hit', 'hit', 'hit', 'hit', 'hit'];

test('a cache beside the destination on a TLS registry with htpasswd: a fresh pod rebuilds from it, same digest, nothing run or pulled', async () => {
  const ctx = await context(`${plain.host}/base/busybox`);
  const dest = ['--destination', `${secure.host}/app/web:1`];
  const cold = await build(ctx, dest);
  expect(cold.exitCode, cold.stderr).toBe(0);
  expect(cold.verdicts).toEqual(ALL_MISS);
  expect(cold.stderr).toContain(`layer cache: ${secure.host}/app/web/cache`);
  const warm = await build(ctx, dest);
  expect(warm.exitCode, warm.stderr).toBe(0);
  expect(warm.verdicts).toEqual(ALL_HIT);
  expect(warm.digest).toBe(cold.digest);
  // Nothing ran, and no layer was downloaded: the base is not extracted and the cached blobs are in
  // the destination's registry already.
  expect(warm.stderr).not.toMatch(/pulling layer|RUN isolation/);

  const tags = JSON.parse(
    (
      await skopeo([
        'list-tags',
        '--tls-verify=false',
        '--creds',
        `${USER}:${PASSWORD}`,
        `docker://${secure.host}/app/web/cache`,
      ])
    ).toString(),
  ) as { Tags: string[] };
  // Each step's entry under its key, and its locator.
  expect(tags.Tags.filter((t) => /^[0-9a-f]{64}$/.test(t))).toHaveLength(5);
});

test('a changed file reruns the steps from its COPY; the cached layers below are fetched, verified, and the image is a cold build’s', async () => {
  const cache = ['--cache-repo', `${plain.host}/cache/changed`];
  const ctx = await context(`${plain.host}/base/busybox`);
  const dest = ['--destination', `${plain.host}/app/changed:1`, ...cache];
  expect((await build(ctx, dest)).exitCode).toBe(0);
  const ctx2 = await context(`${plain.host}/base/busybox`, 'later, changed\n');
  const warm = await build(ctx2, [...dest, '--verbosity=debug']);
  expect(warm.exitCode, warm.stderr).toBe(0);
  expect(warm.verdicts).toEqual(['hit', 'hit', 'hit', 'miss', 'miss']);
  // -v debug says which input changed against the newest entry of the same instruction.
  expect(warm.stderr).toMatch(
    /cache miss [0-9a-f]{12}: changed since the newest entry for this instruction: its source files/,
  );
  expect(warm.stderr).toMatch(
    /cache miss [0-9a-f]{12}: changed since the newest entry for this instruction: the filesystem below the step/,
  );
  const fresh = await build(ctx2, [
    '--destination',
    `${plain.host}/app/changed:2`,
    '--cache-repo',
    `${plain.host}/cache/fresh`,
  ]);
  expect(fresh.digest).toBe(warm.digest);
});

test('--cache-repo oci:DIR keeps the cache in a local layout; --no-push-cache stores nothing', async () => {
  const layout = join(await tempDir('cache-layout'), 'cache');
  const ctx = await context(`${plain.host}/base/busybox`);
  const skip = await build(ctx, ['--no-push', '--cache-repo', `oci:${layout}`, '--no-push-cache']);
  expect(skip.exitCode, skip.stderr).toBe(0);
  expect(skip.stderr).toContain('--no-push-cache: looked up, nothing stored');
  await expect(readdir(layout)).rejects.toThrow(/ENOENT/);
  const flags = ['--destination', `${plain.host}/app/oci:1`, '--cache-repo', `oci:${layout}`];
  const cold = await build(ctx, flags);
  expect(cold.exitCode, cold.stderr).toBe(0);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
  expect(index.manifests).toHaveLength(10);
  const warm = await build(ctx, flags);
  expect(warm.verdicts).toEqual(ALL_HIT);
  expect(warm.digest).toBe(cold.digest);
});

test('two builds at once into one cache repository both succeed; a new base digest misses every step', async () => {
  const cache = ['--cache-repo', `${plain.host}/cache/shared`];
  const a = await context(`${plain.host}/base/busybox`);
  const b = await context(`${plain.host}/base/busybox`, 'other\n');
  const [ra, rb] = await Promise.all([
    build(a, ['--destination', `${plain.host}/app/a:1`, ...cache]),
    build(b, ['--destination', `${plain.host}/app/b:1`, ...cache]),
  ]);
  expect([ra.exitCode, rb.exitCode], ra.stderr + rb.stderr).toEqual([0, 0]);
  expect((await build(b, ['--destination', `${plain.host}/app/b:2`, ...cache])).verdicts).toEqual(ALL_HIT);
  // Another image under the base's tag: its digest is in every key.
  await pushBusybox(plain, 'base/busybox', 'moving');
  await skopeo([
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    `docker://${plain.host}/app/a:1`,
    `docker://${plain.host}/base/busybox:moving`,
  ]);
  const moved = await context(`${plain.host}/base/busybox:moving`);
  const rebased = await build(moved, ['--destination', `${plain.host}/app/a:2`, ...cache]);
  expect(rebased.verdicts).toEqual(ALL_MISS);
});

test('a cached blob corrupted in the registry is a warning, its step is built again, and the image is right', async () => {
  const cache = ['--cache-repo', `${plain.host}/cache/corrupt`];
  const ctx = await context(`${plain.host}/base/busybox`);
  const cold = await build(ctx, ['--destination', `${plain.host}/app/corrupt:1`, ...cache]);
  expect(cold.exitCode, cold.stderr).toBe(0);
  // The first RUN's layer (base, WORKDIR, COPY, RUN…): wrong bytes under its digest.
  const manifest = JSON.parse(
    (await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${plain.host}/app/corrupt:1`])).toString(),
  ) as { layers: { digest: string; size: number }[] };
  const run = manifest.layers.at(-3)?.digest ?? '';
  const hex = run.slice('sha256:'.length);
  const blob = join(plain.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  const bytes = await readFile(blob);
  await writeFile(
    blob,
    bytes.map((b) => b ^ 0x5a),
  );
  // A later step changes, so the corrupt layer is needed below it.
  const ctx2 = await context(`${plain.host}/base/busybox`, 'later, changed\n');
  const warm = await build(ctx2, ['--destination', `${plain.host}/app/corrupt:2`, ...cache]);
  expect(warm.exitCode, warm.stderr).toBe(0);
  expect(warm.stderr).toMatch(/digest mismatch.*; building the step instead of using the cache/);
  expect(warm.stderr).toMatch(/\[3\/5\] RUN mkdir -p gen[^\n]*\n(?:.*\n)*?.*\[3\/5\] RUN mkdir -p gen/);
  const fresh = await build(ctx2, [
    '--destination',
    `${plain.host}/app/corrupt:3`,
    '--cache-repo',
    `${plain.host}/cache/clean`,
  ]);
  expect(warm.digest).toBe(fresh.digest);
});
