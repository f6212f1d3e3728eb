/**
 * Kiln's side of the bench: a frozen copy of the compiled executor (so a concurrent
 * `npm run build` cannot change the code under test halfway through a run) and one timed build
 * that pushes to the bench registry.
 */
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { timed, type Measured } from './measure.js';

export interface KilnBuild {
  context: string;
  dockerfile: string;
  destination: string;
  buildArgs: Record<string, string>;
  /** More executor flags (the cache scenarios' `--cache=true --cache-repo …`). */
  extraArgs?: string[];
}

/** One RUN's snapshot cost, from the `snapshot` debug record of `src/commands/run.ts`. */
export interface SnapshotCost {
  files: number;
  changes: number;
  indexBeforeMs: number;
  snapshotMs: number;
}

/** Copies `bin/`, `dist/` and package.json of the repository to `dir`, sharing node_modules. */
export async function freezeKiln(repo: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await cp(join(repo, 'bin'), join(dir, 'bin'), { recursive: true });
  await cp(join(repo, 'dist'), join(dir, 'dist'), { recursive: true });
  await cp(join(repo, 'package.json'), join(dir, 'package.json'));
  await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bin', 'executor');
}

/** The executor's arguments for a build that pushes over plain HTTP to the bench registry. */
export function kilnArgs(b: KilnBuild, kanikoDir: string): string[] {
  return [
    '--context',
    b.context,
    '--dockerfile',
    b.dockerfile,
    '--destination',
    b.destination,
    '--insecure',
    '--insecure-pull',
    ...Object.entries(b.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    '--kaniko-dir',
    kanikoDir,
    '--verbosity',
    'debug',
    '--log-format',
    'json',
    ...(b.extraArgs ?? []),
  ];
}

/** Where `node --cpu-prof` writes a profile of the run (it inflates the timings). */
export interface ProfileTo {
  dir: string;
  name: string;
}

/** Runs `node EXECUTOR …` under /usr/bin/time. */
export async function runKiln(
  executor: string,
  b: KilnBuild,
  scratch: string,
  profile?: ProfileTo,
  env?: Record<string, string>,
): Promise<Measured> {
  const prof = profile
    ? ['--cpu-prof', `--cpu-prof-dir=${profile.dir}`, `--cpu-prof-name=${profile.name}.cpuprofile`]
    : [];
  return timed(process.execPath, [...prof, executor, ...kilnArgs(b, join(scratch, 'kaniko'))], {
    timeFile: join(scratch, 'time-kiln.txt'),
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
}

/** The `snapshot` records of a Kiln run, one per RUN step, in order. */
export function snapshotCosts(m: Measured): SnapshotCost[] {
  return m.jsonLines
    .filter((l) => l.msg === 'snapshot')
    .map((l) => ({
      files: Number(l.files),
      changes: Number(l.changes),
      indexBeforeMs: Number(l.indexBeforeMs),
      snapshotMs: Number(l.snapshotMs),
    }));
}

/**
 * Whether a failed Kiln build refused the Dockerfile (exit 3) or one of its flags (exit 2, as the
 * cache flags are until issue 15 lands) as not supported yet.
 */
export function isUnsupported(m: Measured): boolean {
  return (m.exitCode === 3 || m.exitCode === 2) && /not supported/.test(m.stderrTail);
}

/** How many steps a Kiln run logged as `cache hit` and as `cache miss` (issue 15's step lines). */
export function cacheVerdicts(m: Measured): { hits: number; misses: number } {
  const msgs = m.jsonLines.map((l) => (typeof l.msg === 'string' ? l.msg : ''));
  return {
    hits: msgs.filter((x) => /\bcache hit\b/i.test(x)).length,
    misses: msgs.filter((x) => /\bcache miss\b/i.test(x)).length,
  };
}
