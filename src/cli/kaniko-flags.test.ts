/**
 * Every flag of Kaniko 1.x's executor (cmd/executor/cmd/root.go of Kaniko v1.23: its
 * `addKanikoOptionsFlags`, `init` and the deprecated spellings), each either accepted with
 * Kaniko's meaning, read into the BuildOptions it should give, or refused with a message saying
 * why. None is refused any more: the remote contexts (issue 14) and the layer cache (issue 15) are built.
 */
import { describe, expect, test } from 'vitest';
import { parseBuildOptions, type BuildOptions } from '../config/options.js';
import { UsageError } from '../errors.js';
import { parseCommandLine } from './program.js';

/** Kaniko 1.x's executor flags, by long name. */
// prettier-ignore
const KANIKO_FLAGS = [
  'verbosity', 'log-format', 'log-timestamp', 'force', 'dockerfile', 'context', 'context-sub-path', 'bucket',
  'destination', 'snapshot-mode', 'custom-platform', 'build-arg', 'insecure', 'skip-tls-verify', 'insecure-pull',
  'skip-tls-verify-pull', 'push-retry', 'push-ignore-immutable-tag-errors', 'image-fs-extract-retry',
  'image-download-retry', 'kaniko-dir', 'tar-path', 'single-snapshot', 'reproducible', 'target', 'no-push',
  'no-push-cache', 'cache-repo', 'cache-dir', 'digest-file', 'image-name-with-digest-file',
  'image-name-tag-with-digest-file', 'oci-layout-path', 'compression', 'compression-level', 'cache',
  'compressed-caching', 'cleanup', 'cache-ttl', 'insecure-registry', 'skip-tls-verify-registry',
  'registry-certificate', 'registry-client-cert', 'registry-map', 'registry-mirror',
  'skip-default-registry-fallback', 'ignore-var-run', 'label', 'skip-unused-stages', 'use-new-run', 'git',
  'cache-copy-layers', 'cache-run-layers', 'ignore-path', 'force-build-metadata', 'skip-push-permission-check',
  // Deprecated, accepted with a warning.
  'snapshotMode', 'customPlatform', 'tarPath', 'whitelist-var-run',
];

const DEST = ['--destination', 'reg.example/app:1'];

/** The options a Kaniko command line gives (`--no-push` and a destination added unless it names them). */
async function options(args: string[], env: Record<string, string> = {}): Promise<BuildOptions> {
  const base = args.some((a) => /^(-d|--destination|--no-push)(=|$)/.test(a)) ? [] : ['--no-push', ...DEST];
  const action = await parseCommandLine([...base, ...args], { out: () => {}, err: () => {} });
  if (action?.kind !== 'build') throw new Error('no build action');
  return parseBuildOptions(action.raw, env);
}

type Accepted = { flag: string; args: string[]; get: (o: BuildOptions) => unknown; want: unknown };

const accepted: Accepted[] = [
  // Issue 14: bucket contexts are fetched; --bucket replaces --context as in Kaniko.
  { flag: 'bucket', args: ['-b=my-bucket'], get: (o) => o.context.display, want: 'gs://my-bucket' },
  { flag: 'bucket', args: ['--bucket', 'my-bucket'], get: (o) => o.context.flag, want: '--bucket' },
  { flag: 'bucket', args: ['-b', 's3://my-bucket'], get: (o) => o.context.spec.kind, want: 's3' },
  { flag: 'context', args: ['-c', 's3://bucket/ctx.tar.gz'], get: (o) => o.context.spec.kind, want: 's3' },
  { flag: 'verbosity', args: ['-v=TRACE'], get: (o) => o.verbosity, want: 'trace' },
  { flag: 'verbosity', args: ['--verbosity', 'Info'], get: (o) => o.verbosity, want: 'info' },
  { flag: 'verbosity', args: ['-v', 'debug'], get: (o) => o.verbosity, want: 'debug' },
  { flag: 'verbosity', args: ['--verbosity=WARNING'], get: (o) => o.verbosity, want: 'warn' },
  { flag: 'log-format', args: ['--log-format=json'], get: (o) => o.logFormat, want: 'json' },
  { flag: 'log-timestamp', args: ['--log-timestamp'], get: (o) => o.logTimestamp, want: true },
  { flag: 'force', args: ['--force=true'], get: (o) => o.force, want: true },
  { flag: 'dockerfile', args: ['-f=sub/Dockerfile'], get: (o) => o.dockerfile, want: 'sub/Dockerfile' },
  { flag: 'dockerfile', args: ['-f', 'Containerfile'], get: (o) => o.dockerfile, want: 'Containerfile' },
  { flag: 'context', args: ['-c=dir:///ws'], get: (o) => o.contextDir, want: '/ws' },
  { flag: 'context', args: ['--context', 'ctx'], get: (o) => o.contextDir, want: 'ctx' },
  // A git:// context is fetched (issue 14), with Kaniko's --git options.
  {
    flag: 'git',
    args: ['--context=git://github.com/a/b.git#v1', '--git', 'recurse-submodules=true'],
    get: (o) => o.context.spec,
    want: {
      kind: 'git',
      url: new URL('https://github.com/a/b.git'),
      ref: 'v1',
      options: { singleBranch: false, recurseSubmodules: true, insecureSkipTls: false },
    },
  },
  // Kaniko's --git always has a value: a context that is not git:// ignores it.
  { flag: 'git', args: ['--git', 'branch=main,single-branch=true'], get: (o) => o.contextDir, want: '/workspace/' },
  {
    flag: 'context-sub-path',
    args: ['--context=dir:///ws', '--context-sub-path=app/one'],
    get: (o) => o.contextDir,
    want: '/ws/app/one',
  },
  {
    flag: 'destination',
    args: ['--no-push', '-d=reg.example/a:1', '-d', 'reg.example/b'],
    get: (o) => o.destinations.map((d) => `${d.repository}:${d.tag ?? ''}`),
    want: ['a:1', 'b:latest'],
  },
  { flag: 'snapshot-mode', args: ['--snapshot-mode=redo'], get: (o) => o.snapshotMode, want: 'redo' },
  {
    flag: 'custom-platform',
    args: ['--custom-platform', 'linux/arm64'],
    get: (o) => o.platform,
    want: { os: 'linux', architecture: 'arm64' },
  },
  { flag: 'build-arg', args: ['--build-arg=A=1'], get: (o) => [...o.buildArgs], want: [['A', '1']] },
  { flag: 'insecure', args: ['--insecure'], get: (o) => o.insecurePush('r.example'), want: true },
  { flag: 'skip-tls-verify', args: ['--skip-tls-verify'], get: (o) => o.skipTlsVerifyPush('r.example'), want: true },
  { flag: 'insecure-pull', args: ['--insecure-pull'], get: (o) => o.insecurePull('r.example'), want: true },
  {
    flag: 'skip-tls-verify-pull',
    args: ['--skip-tls-verify-pull'],
    get: (o) => o.skipTlsVerifyPull('r.example'),
    want: true,
  },
  { flag: 'push-retry', args: ['--push-retry=3'], get: (o) => o.pushRetry, want: 3 },
  {
    flag: 'push-ignore-immutable-tag-errors',
    args: ['--push-ignore-immutable-tag-errors'],
    get: (o) => o.pushIgnoreImmutableTagErrors,
    want: true,
  },
  {
    flag: 'image-fs-extract-retry',
    args: ['--image-fs-extract-retry', '2'],
    get: (o) => o.imageFsExtractRetry,
    want: 2,
  },
  { flag: 'image-download-retry', args: ['--image-download-retry=4'], get: (o) => o.imageDownloadRetry, want: 4 },
  { flag: 'kaniko-dir', args: ['--kaniko-dir=/kd'], get: (o) => o.kanikoDir, want: '/kd' },
  { flag: 'tar-path', args: ['--tar-path', 'i.tar'], get: (o) => o.tarPath, want: 'i.tar' },
  { flag: 'single-snapshot', args: ['--single-snapshot'], get: (o) => o.singleSnapshot, want: true },
  { flag: 'reproducible', args: ['--reproducible'], get: (o) => o.reproducible, want: true },
  { flag: 'target', args: ['--target=build'], get: (o) => o.target, want: 'build' },
  { flag: 'no-push', args: ['--no-push'], get: (o) => o.push, want: false },
  { flag: 'digest-file', args: ['--digest-file=d'], get: (o) => o.digestFile, want: 'd' },
  {
    flag: 'image-name-with-digest-file',
    args: ['--image-name-with-digest-file=n'],
    get: (o) => o.imageNameWithDigestFile,
    want: 'n',
  },
  {
    flag: 'image-name-tag-with-digest-file',
    args: ['--image-name-tag-with-digest-file', 't'],
    get: (o) => o.imageNameTagWithDigestFile,
    want: 't',
  },
  { flag: 'oci-layout-path', args: ['--oci-layout-path=l'], get: (o) => o.ociLayoutPath, want: 'l' },
  { flag: 'compression', args: ['--compression=zstd'], get: (o) => o.compression, want: 'zstd' },
  { flag: 'compression-level', args: ['--compression-level=9'], get: (o) => o.compressionLevel, want: 9 },
  { flag: 'cleanup', args: ['--cleanup'], get: (o) => o.cleanup, want: true },
  {
    flag: 'insecure-registry',
    args: ['--insecure-registry=r.example'],
    get: (o) => [o.insecurePull('r.example'), o.insecurePush('r.example'), o.insecurePull('s.example')],
    want: [true, true, false],
  },
  {
    flag: 'skip-tls-verify-registry',
    args: ['--skip-tls-verify-registry', 'r.example'],
    get: (o) => [o.skipTlsVerifyPull('r.example'), o.skipTlsVerifyPush('r.example')],
    want: [true, true],
  },
  {
    flag: 'registry-certificate',
    args: ['--registry-certificate=r.example=/ca.pem'],
    get: (o) => [...o.registryCertificates],
    want: [['r.example', '/ca.pem']],
  },
  {
    flag: 'registry-client-cert',
    args: ['--registry-client-cert=r.example=/c.pem,/k.pem'],
    get: (o) => [...o.registryClientCertificates],
    want: [['r.example', { cert: '/c.pem', key: '/k.pem' }]],
  },
  {
    flag: 'registry-map',
    args: ['--registry-map=index.docker.io=m.example'],
    get: (o) => o.registryMaps.get('docker.io')?.map((m) => m.registry),
    want: ['m.example'],
  },
  {
    flag: 'registry-mirror',
    args: ['--registry-mirror', 'm.example'],
    get: (o) => o.registryMaps.get('docker.io')?.map((m) => m.registry),
    want: ['m.example'],
  },
  {
    flag: 'skip-default-registry-fallback',
    args: ['--skip-default-registry-fallback'],
    get: (o) => o.skipDefaultRegistryFallback,
    want: true,
  },
  { flag: 'ignore-var-run', args: ['--ignore-var-run=false'], get: (o) => o.ignorePaths, want: [] },
  { flag: 'label', args: ['--label', 'a=b'], get: (o) => [...o.labels], want: [['a', 'b']] },
  { flag: 'skip-unused-stages', args: ['--skip-unused-stages'], get: (o) => o.skipUnusedStages, want: true },
  // Kiln's RUN already snapshots only what changed: the flag asks for nothing Kiln does not do.
  { flag: 'use-new-run', args: ['--use-new-run'], get: (o) => o.snapshotMode, want: 'full' },
  { flag: 'ignore-path', args: ['--ignore-path=/tmp/x'], get: (o) => o.ignorePaths, want: ['/tmp/x', '/var/run'] },
  { flag: 'force-build-metadata', args: ['--force-build-metadata'], get: (o) => o.forceBuildMetadata, want: true },
  {
    flag: 'skip-push-permission-check',
    args: ['--skip-push-permission-check'],
    get: (o) => o.skipPushPermissionCheck,
    want: true,
  },
  { flag: 'snapshotMode', args: ['--snapshotMode=time'], get: (o) => o.snapshotMode, want: 'time' },
  {
    flag: 'customPlatform',
    args: ['--customPlatform', 'linux/arm/v7'],
    get: (o) => o.platform,
    want: { os: 'linux', architecture: 'arm', variant: 'v7' },
  },
  { flag: 'tarPath', args: ['--tarPath=old.tar'], get: (o) => o.tarPath, want: 'old.tar' },
  { flag: 'whitelist-var-run', args: ['--whitelist-var-run=false'], get: (o) => o.ignorePaths, want: [] },
  // Issue 15: Kaniko's layer cache, with its defaults (two weeks, RUN layers yes, COPY layers no).
  { flag: 'cache', args: ['--cache'], get: (o) => o.cache.enabled, want: true },
  { flag: 'cache', args: ['--cache=false'], get: (o) => o.cache.enabled, want: false },
  {
    flag: 'cache',
    args: ['--cache=true'],
    get: (o) => o.cache.repo,
    want: { kind: 'registry', repository: 'reg.example/app/cache' },
  },
  {
    flag: 'cache-repo',
    args: ['--cache', '--cache-repo', 'reg.example/c'],
    get: (o) => o.cache.repo,
    want: { kind: 'registry', repository: 'reg.example/c' },
  },
  {
    flag: 'cache-repo',
    args: ['--cache', '--cache-repo=oci:/var/cache/kiln'],
    get: (o) => o.cache.repo,
    want: { kind: 'oci', dir: '/var/cache/kiln' },
  },
  { flag: 'cache-dir', args: ['--cache-dir=/warm'], get: (o) => o.cache.dir, want: '/warm' },
  { flag: 'cache-ttl', args: ['--cache-ttl', '6h'], get: (o) => o.cache.ttlMs, want: 6 * 3600_000 },
  { flag: 'cache-ttl', args: [], get: (o) => o.cache.ttlMs, want: 336 * 3600_000 },
  { flag: 'cache-copy-layers', args: ['--cache-copy-layers'], get: (o) => o.cache.copyLayers, want: true },
  { flag: 'cache-copy-layers', args: ['--cache-copy-layers=false'], get: (o) => o.cache.copyLayers, want: false },
  { flag: 'cache-run-layers', args: [], get: (o) => o.cache.runLayers, want: true },
  { flag: 'cache-run-layers', args: ['--cache-run-layers=false'], get: (o) => o.cache.runLayers, want: false },
  { flag: 'cache-run-layers', args: ['--cache-run-layers=true'], get: (o) => o.cache.runLayers, want: true },
  { flag: 'compressed-caching', args: ['--compressed-caching=false'], get: (o) => o.cache.enabled, want: false },
  { flag: 'no-push-cache', args: ['--no-push-cache'], get: (o) => o.cache.push, want: false },
  { flag: 'no-push-cache', args: ['--no-push-cache=true'], get: (o) => o.cache.push, want: false },
  { flag: 'no-push-cache', args: [], get: (o) => o.cache.push, want: true },
];

const refused: { flag: string; args: string[]; why: RegExp }[] = [];

describe('every Kaniko 1.x executor flag', () => {
  test('is in the table, accepted or refused', () => {
    const covered = new Set([...accepted, ...refused].map((r) => r.flag));
    expect(KANIKO_FLAGS.filter((f) => !covered.has(f))).toEqual([]);
  });

  test.each(accepted)('--$flag: $args is accepted with Kaniko’s meaning', async ({ args, get, want }) => {
    expect(get(await options(args))).toEqual(want);
  });

  test.each(refused)('--$flag: $args is refused, saying why', async ({ flag, args, why }) => {
    const err = await options(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(why);
    expect((err as UsageError).message).toContain(`--${flag}`);
  });
});

describe('Kaniko’s environment and rules', () => {
  test('KANIKO_DIR is the default of --kaniko-dir; the flag wins', async () => {
    expect((await options([], { KANIKO_DIR: '/env/kaniko' })).kanikoDir).toBe('/env/kaniko');
    expect((await options(['--kaniko-dir=/flag'], { KANIKO_DIR: '/env/kaniko' })).kanikoDir).toBe('/flag');
    expect((await options([], { KANIKO_DIR: '' })).kanikoDir).toBeUndefined();
    expect((await options([])).kanikoDir).toBeUndefined();
  });

  test.each(['--image-name-with-digest-file', '--image-name-tag-with-digest-file'])(
    '%s without --destination is refused, as Kaniko refuses it, even with --no-push',
    async (flag) => {
      await expect(options(['--no-push', `${flag}=names`])).rejects.toThrow(
        new RegExp(`^you must provide --destination if setting ${flag}`),
      );
    },
  );

  test('--force-build-metadata gives a layer per instruction, so it outweighs --single-snapshot as in Kaniko', async () => {
    expect(await options(['--single-snapshot', '--force-build-metadata'])).toMatchObject({
      singleSnapshot: false,
      forceBuildMetadata: true,
    });
  });
});
