/**
 * Buildah's side of the bench: `buildah build --isolation chroot --layers=false --no-cache` (or,
 * for the cache scenarios, `--layers --cache-to R --cache-from R`) into a private, freshly wiped
 * storage root, then `buildah push` to the bench registry, both timed.
 *
 * Each run gets its own `--root`/`--runroot` and its own blob-info cache (containers/image keeps
 * it in /var/lib/containers/cache for root, with no flag to move it): both commands run in a
 * private mount namespace where that directory is a bind mount of a per-run directory. Without
 * this, a later run would find an earlier run's compressed digest for the same diffID and
 * cross-mount the blob instead of compressing and uploading it, which Kiln cannot do.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sequence, timed, type Measured } from './measure.js';

export type StorageDriver = 'overlay' | 'vfs';

export interface BuildahBuild {
  context: string;
  dockerfile: string;
  destination: string;
  buildArgs: Record<string, string>;
  /**
   * A registry repository to use as the layer cache (`--layers --cache-to R --cache-from R`, which
   * Buildah 1.28 has); without it every step runs (`--layers=false --no-cache`).
   */
  cacheRepo?: string;
}

const SYSTEM_CACHE = '/var/lib/containers/cache';

/** Private mount namespace with the blob-info cache redirected to `cacheDir`, then `argv`. */
function inPrivateCache(cacheDir: string, argv: string[]): [string, string[]] {
  return [
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      `mount --bind "$0" ${SYSTEM_CACHE} && exec "$@"`,
      cacheDir,
      ...argv,
    ],
  ];
}

function storageArgs(dir: string, driver: StorageDriver): string[] {
  return ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', driver];
}

/** A signature policy that accepts anything, so the host's policy.json does not matter. */
export async function writePolicy(dir: string): Promise<string> {
  const path = join(dir, 'policy.json');
  await writeFile(path, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  return path;
}

/** `overlay` when it can be initialised under `dir` (it needs a kernel overlayfs mount), else `vfs`. */
export async function pickStorageDriver(dir: string): Promise<{ driver: StorageDriver; why: string }> {
  await mkdir(SYSTEM_CACHE, { recursive: true });
  const probe = join(dir, 'probe');
  await mkdir(join(probe, 'cache'), { recursive: true });
  const [cmd, args] = inPrivateCache(join(probe, 'cache'), ['buildah', ...storageArgs(probe, 'overlay'), 'images']);
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  await rm(probe, { recursive: true, force: true });
  if (res.status === 0) return { driver: 'overlay', why: 'overlay initialised' };
  return {
    driver: 'vfs',
    why: `overlay failed: ${(res.stderr || res.error?.message || '').trim().split('\n').pop() ?? ''}`,
  };
}

/** One timed build + push, in a storage root under `scratch` that is wiped before and after. */
export async function runBuildah(
  b: BuildahBuild,
  scratch: string,
  driver: StorageDriver,
  policy: string,
): Promise<Measured> {
  const dir = join(scratch, 'buildah');
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'cache'), { recursive: true });
  try {
    const storage = storageArgs(dir, driver);
    const buildArgv = [
      'buildah',
      ...storage,
      'build',
      '--isolation',
      'chroot',
      ...(b.cacheRepo
        ? ['--layers', '--cache-to', b.cacheRepo, '--cache-from', b.cacheRepo]
        : ['--layers=false', '--no-cache']),
      '--signature-policy',
      policy,
      '--tls-verify=false',
      ...Object.entries(b.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      '-f',
      b.dockerfile,
      '-t',
      b.destination,
      b.context,
    ];
    const pushArgv = [
      'buildah',
      ...storage,
      'push',
      '--signature-policy',
      policy,
      '--tls-verify=false',
      b.destination,
      `docker://${b.destination}`,
    ];
    const timeFile = join(scratch, 'time-buildah.txt');
    const [bc, ba] = inPrivateCache(join(dir, 'cache'), buildArgv);
    const built = await timed(bc, ba, { timeFile });
    if (built.exitCode !== 0) return built;
    const [pc, pa] = inPrivateCache(join(dir, 'cache'), pushArgv);
    return sequence(built, await timed(pc, pa, { timeFile }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
