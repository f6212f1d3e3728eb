/**
 * A file index: lstat facts of every path in a rootfs, taken before and after a RUN and
 * compared by {@link diffIndexes} (DESIGN.md §4). Only metadata is read, so the cost grows with
 * the number of files, not their bytes.
 */
import type { BigIntStats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { fsError } from '../errors.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { walk } from '../rootfs/walk.js';

/** The lstat facts a snapshot compares. Times are milliseconds with sub-millisecond fractions. */
export interface FileFacts {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  /** Permission and special bits: st_mode & 0o7777. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  nlink: number;
  linkTarget?: string;
}

/** Facts keyed by image path, e.g. '/etc/passwd'. */
export type FileIndex = Map<string, FileFacts>;

/** The {@link FileFacts} type of an lstat result. */
export function fileType(stat: BigIntStats): FileFacts['type'] {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isCharacterDevice()) return 'char';
  if (stat.isBlockDevice()) return 'block';
  if (stat.isFIFO()) return 'fifo';
  return 'socket';
}

/** Nanoseconds to fractional milliseconds without going through a lossy seconds float. */
function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

/** Facts of one path from its bigint lstat; `linkTarget` is filled in by the caller. */
export function factsOf(stat: BigIntStats): FileFacts {
  return {
    type: fileType(stat),
    mode: Number(stat.mode & 0o7777n),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    size: Number(stat.size),
    mtimeMs: nsToMs(stat.mtimeNs),
    ctimeMs: nsToMs(stat.ctimeNs),
    ino: Number(stat.ino),
    nlink: Number(stat.nlink),
  };
}

/** Indexes every path of the rootfs except skipped subtrees (ignored paths, Kiln's own dirs). */
export async function indexRootfs(rootfs: Rootfs, opts: { skip?: (imagePath: string) => boolean }): Promise<FileIndex> {
  const index: FileIndex = new Map();
  for await (const { path, host, stat } of walk(rootfs, opts.skip ? { skip: opts.skip } : {})) {
    const facts = factsOf(stat);
    if (facts.type === 'symlink') {
      try {
        facts.linkTarget = await readlink(host);
      } catch (err) {
        throw fsError(`reading symlink ${path}`, err);
      }
    }
    index.set(path, facts);
  }
  return index;
}
