/**
 * The facts Kiln knows of a path in a rootfs: its lstat facts (what a snapshot compares and a
 * live index records) and the identity of a file's content (what `--snapshot-mode=full`
 * compares). Extraction, packing and snapshots all speak of files in these terms
 * (ARCHITECTURE.md §5).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Stats } from 'node:fs';

/**
 * The lstat facts a snapshot compares. Times are milliseconds with sub-millisecond fractions,
 * as Node computes them from the kernel's seconds and nanoseconds (the same for every lstat of
 * an unchanged file, so they compare exactly).
 */
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
  /** Device number of char and block devices. */
  rdev?: number;
  linkTarget?: string;
}

/** File type bits of st_mode (inode(7)). */
const S_IFMT = 0o170000;

/** The {@link FileFacts} type of each `st_mode & S_IFMT`. */
export const FILE_TYPES: ReadonlyMap<number, FileFacts['type']> = new Map<number, FileFacts['type']>([
  [0o100000, 'file'],
  [0o040000, 'dir'],
  [0o120000, 'symlink'],
  [0o020000, 'char'],
  [0o060000, 'block'],
  [0o010000, 'fifo'],
  [0o140000, 'socket'],
]);

/** The {@link FileFacts} type of an lstat result (from the mode bits: one lookup, not six method calls). */
export function fileType(stat: Stats): FileFacts['type'] {
  return FILE_TYPES.get(stat.mode & S_IFMT) ?? 'socket';
}

/** Facts of one path from its lstat; `linkTarget` is filled in by the caller. */
export function factsOf(stat: Stats): FileFacts {
  const type = fileType(stat);
  const facts: FileFacts = {
    type,
    mode: stat.mode & 0o7777,
    uid: stat.uid,
    gid: stat.gid,
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    ctimeMs: stat.ctimeMs,
    ino: stat.ino,
    nlink: stat.nlink,
  };
  if (type === 'char' || type === 'block') facts.rdev = stat.rdev;
  return facts;
}

/** The identity of a file's content: its sha256 and, when it has one, its file capability. */
export function contentIdentity(sha256: Hash, capability?: Buffer): string {
  const hex = sha256.digest('hex');
  return capability ? `${hex}+cap:${capability.toString('hex')}` : hex;
}

/** A fresh sha256 for {@link contentIdentity}. */
export function contentHasher(): Hash {
  return createHash('sha256');
}
