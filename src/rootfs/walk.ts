/**
 * Sorted depth-first walks of a rootfs. Sorting makes snapshots and layers deterministic
 * (ARCHITECTURE.md §11 rule 5) whatever order the filesystem returns directory entries in.
 */
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from './host-fs.js';
import { join } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import { compareNames, joinPath } from './image-path.js';
import type { Rootfs } from './rootfs.js';

/** One walked path: its image path, its host path and lstat facts (bigint, so inode numbers stay exact). */
export interface WalkEntry {
  path: string;
  host: string;
  stat: BigIntStats;
}

/** How many lstat calls run at once within one directory: enough to hide latency, bounded for huge dirs. */
const STAT_BATCH = 64;

/**
 * Depth-first walk of the tree under image path `start` (default '/'), children sorted by name
 * (byte order), yielding image paths and lstat results; skips subtrees for which
 * skip(imagePath) is true (the path itself is not yielded either). Symlinks are yielded, never
 * followed. Root '/' itself is not yielded; any other `start` is yielded first (when it exists
 * and is not skipped). A missing `start` yields nothing. Parent symlinks of `start` are resolved
 * inside the root and paths are canonical: `/link/x` with `/link -> /data` walks `/data/x`.
 */
export async function* walk(
  rootfs: Rootfs,
  opts?: { start?: string; skip?: (imagePath: string) => boolean },
): AsyncGenerator<WalkEntry> {
  const skip = opts?.skip ?? ((): boolean => false);
  const host = await rootfs.resolve(opts?.start ?? '/');
  const start = rootfs.imagePathOf(host);
  if (start !== '/') {
    if (skip(start)) return;
    const stat = await lstatOrUndefined(host);
    if (!stat) return;
    yield { path: start, host, stat };
    if (!stat.isDirectory()) return;
  }
  yield* walkDir(host, start, skip);
}

async function* walkDir(hostDir: string, imageDir: string, skip: (p: string) => boolean): AsyncGenerator<WalkEntry> {
  let names: string[];
  try {
    names = await readdir(hostDir);
  } catch (err) {
    // Removed while walking (a RUN's leftover process, a tmp dir): nothing below to report.
    if (errnoCode(err) === 'ENOENT') return;
    throw fsError(`listing ${imageDir}`, err);
  }
  names.sort(compareNames);
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const batch = names
      .slice(i, i + STAT_BATCH)
      .map((name) => ({ host: join(hostDir, name), path: joinPath(imageDir, name) }));
    const wanted = batch.filter((e) => !skip(e.path));
    const stats = await Promise.all(wanted.map((e) => lstatOrUndefined(e.host)));
    for (const [k, e] of wanted.entries()) {
      const stat = stats[k];
      if (!stat) continue;
      yield { path: e.path, host: e.host, stat };
      if (stat.isDirectory()) yield* walkDir(e.host, e.path, skip);
    }
  }
}

async function lstatOrUndefined(host: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(host, { bigint: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fsError(`inspecting ${host}`, err);
  }
}
