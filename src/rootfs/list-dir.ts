/**
 * One directory of a rootfs listed for a file index: its entries sorted by name bytes, each
 * entry's lstat facts packed into numbers (so that a worker thread can hand a listing over
 * without copying objects), symlink targets beside them. Synchronous: on a big tree a few
 * microseconds per lstat is the whole cost, and a promise per call would triple it.
 */
import type { Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from './host-fs.js';
import { errnoCode, fsError } from '../errors.js';
import { compareNames, isWithin, joinPath } from './image-path.js';

/** Numbers per entry in {@link DirListing.nums}, in this order. */
export const FIELDS = ['fmt', 'mode', 'uid', 'gid', 'size', 'mtimeMs', 'ctimeMs', 'ino', 'nlink', 'rdev'] as const;
export const STRIDE = FIELDS.length;

/** st_mode's file type bits (inode(7)). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** A directory's entries: image paths, packed facts ({@link FIELDS}), and symlink targets by entry number. */
export interface DirListing {
  image: string;
  host: string;
  names: string[];
  nums: Float64Array;
  targets: Record<number, string>;
}

/**
 * Byte order of UTF-8 names (as `ls` under LC_ALL=C). JavaScript's default sort compares
 * UTF-16 code units, which agrees with UTF-8 byte order unless a name holds a character at or
 * above U+D800 (surrogate pairs sort before U+E000–U+FFFF in UTF-16, after them in UTF-8).
 */
function sortNames(names: string[]): string[] {
  // eslint-disable-next-line no-control-regex -- the check is for the whole range below U+D800
  if (names.every((n) => /^[\u0000-\ud7ff]*$/.test(n))) return names.sort();
  return names.sort(compareNames);
}

function lstatOrUndefined(host: string): Stats | undefined {
  try {
    return lstatSync(host, { throwIfNoEntry: false });
  } catch (err) {
    if (errnoCode(err) === 'ENOTDIR') return undefined;
    throw fsError(`inspecting ${host}`, err);
  }
}

/** Whether an image path is one of `ignore` or below one. */
export function ignored(path: string, ignore: readonly string[]): boolean {
  return ignore.length > 0 && ignore.some((i) => isWithin(path, i));
}

/**
 * Whether one of `ignore` lies strictly below the image path `path`: then `path` itself may not be
 * removed or replaced as a whole (an in-place build keeps a mount point under it).
 */
export function holdsIgnored(path: string, ignore: readonly string[]): boolean {
  return ignore.length > 0 && ignore.some((i) => i !== path && isWithin(i, path));
}

/**
 * Lists the directory at `host` (image path `image`), leaving out ignored paths and entries
 * that vanish meanwhile (a RUN's leftover process). A directory that vanished lists empty.
 */
export function listDir(host: string, image: string, ignore: readonly string[]): DirListing {
  let raw: string[];
  try {
    raw = sortNames(readdirSync(host));
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(`listing ${image}`, err);
    raw = [];
  }
  const names: string[] = [];
  const nums = new Float64Array(raw.length * STRIDE);
  const targets: Record<number, string> = {};
  const prefix = host === '/' ? '/' : `${host}/`;
  for (const name of raw) {
    if (ignored(joinPath(image, name), ignore)) continue;
    const st = lstatOrUndefined(prefix + name);
    if (!st) continue;
    const k = names.length;
    nums.set(
      [st.mode & S_IFMT, st.mode & 0o7777, st.uid, st.gid, st.size, st.mtimeMs, st.ctimeMs, st.ino, st.nlink, st.rdev],
      k * STRIDE,
    );
    if ((st.mode & S_IFMT) === S_IFLNK) {
      try {
        targets[k] = readlinkSync(prefix + name);
      } catch (err) {
        throw fsError(`reading symlink ${joinPath(image, name)}`, err);
      }
    }
    names.push(name);
  }
  return { image, host, names, nums: nums.slice(0, names.length * STRIDE), targets };
}
