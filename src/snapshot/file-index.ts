/**
 * A file index: lstat facts of every path in a rootfs, taken before and after a RUN and
 * compared by {@link diffIndexes} (ARCHITECTURE.md §5). Only metadata is read, so the cost grows with
 * the number of files, not their bytes.
 */
import type { Stats } from 'node:fs';
import { lstatSync, readlinkSync } from '../rootfs/host-fs.js';
import { errnoCode, fsError } from '../errors.js';
import { joinPath } from '../rootfs/image-path.js';
import { factsOf, FILE_TYPES, type FileFacts } from '../rootfs/file-facts.js';
import { ignored, listDir, S_IFDIR, STRIDE, type DirListing } from '../rootfs/list-dir.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { DirRef, ListingPool } from './listing-pool.js';

/** Facts keyed by image path, e.g. '/etc/passwd'. */
export type FileIndex = Map<string, FileFacts>;

/** Facts of one path, its link target read for symlinks. */
export function factsAt(host: string, imagePath: string, stat: Stats): FileFacts {
  const facts = factsOf(stat);
  if (facts.type === 'symlink') {
    try {
      facts.linkTarget = readlinkSync(host);
    } catch (err) {
      throw fsError(`reading symlink ${imagePath}`, err);
    }
  }
  return facts;
}

/** Options of {@link indexRootfs}. */
export interface IndexOptions {
  /** Image paths left out with everything below them (Kiln's own mounts, --ignore-path). */
  ignore?: readonly string[];
  /** Index only this subtree (the path itself included), canonical after resolution. */
  start?: string;
  /** Worker threads to list directories with, for big trees. */
  pool?: ListingPool;
}

/** Entries listed on this thread before a pool (if any) takes over: small trees never wake it. */
const INLINE_ENTRIES = 5000;
/** Directories per worker job. */
const JOB_DIRS = 16;

/** The facts of entry `k` of a listing. */
function factsFrom(l: DirListing, k: number): FileFacts {
  const n = l.nums;
  const o = k * STRIDE;
  const type = FILE_TYPES.get(n[o] ?? 0) ?? 'socket';
  const facts: FileFacts = {
    type,
    mode: n[o + 1] ?? 0,
    uid: n[o + 2] ?? 0,
    gid: n[o + 3] ?? 0,
    size: n[o + 4] ?? 0,
    mtimeMs: n[o + 5] ?? 0,
    ctimeMs: n[o + 6] ?? 0,
    ino: n[o + 7] ?? 0,
    nlink: n[o + 8] ?? 0,
  };
  if (type === 'char' || type === 'block') facts.rdev = n[o + 9] ?? 0;
  const target = l.targets[k];
  if (target !== undefined) facts.linkTarget = target;
  return facts;
}

/** The subdirectories a listing found. */
function subdirs(l: DirListing): DirRef[] {
  const out: DirRef[] = [];
  const prefix = l.host === '/' ? '/' : `${l.host}/`;
  l.names.forEach((name, k) => {
    if (l.nums[k * STRIDE] === S_IFDIR) out.push({ host: prefix + name, image: joinPath(l.image, name) });
  });
  return out;
}

/** Lists every directory below `root`: on this thread first, then on the pool's workers when the tree turns out big. */
async function listTree(
  root: DirRef,
  ignore: readonly string[],
  pool: ListingPool | undefined,
): Promise<Map<string, DirListing>> {
  const listings = new Map<string, DirListing>();
  const queue: DirRef[] = [root];
  let entries = 0;
  const take = (l: DirListing): void => {
    listings.set(l.image, l);
    entries += l.names.length;
    queue.push(...subdirs(l));
  };
  while (queue.length > 0 && (!pool || entries < INLINE_ENTRIES)) {
    const next = queue.shift();
    if (next) take(listDir(next.host, next.image, ignore));
    if (listings.size % 256 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!pool) return listings;
  const running = new Set<Promise<void>>();
  while (queue.length > 0 || running.size > 0) {
    while (queue.length > 0 && pool.free > 0) {
      const batch = queue.splice(0, Math.min(JOB_DIRS, Math.ceil(queue.length / pool.size)));
      const job: Promise<void> = pool
        .list(batch, ignore)
        .then((ls) => ls.forEach(take))
        .finally(() => running.delete(job));
      running.add(job);
    }
    await Promise.race(running);
  }
  return listings;
}

/**
 * Indexes every path of the rootfs (or of the subtree at `start`) except ignored subtrees.
 * Entries are in {@link comparePaths} order (depth first, names by bytes).
 */
export async function indexRootfs(rootfs: Rootfs, opts: IndexOptions): Promise<FileIndex> {
  const ignore = opts.ignore ?? [];
  const index: FileIndex = new Map();
  const host = await rootfs.resolve(opts.start ?? '/');
  const start = rootfs.imagePathOf(host);
  if (start !== '/') {
    if (ignored(start, ignore)) return index;
    let stat: Stats | undefined;
    try {
      stat = lstatSync(host, { throwIfNoEntry: false });
    } catch (err) {
      if (errnoCode(err) !== 'ENOTDIR') throw fsError(`inspecting ${start}`, err);
    }
    if (!stat) return index;
    index.set(start, factsAt(host, start, stat));
    if (!stat.isDirectory()) return index;
  }
  const listings = await listTree({ host, image: start }, ignore, opts.pool);
  // Depth first from the start, each directory's entries in name order.
  const stack: { l: DirListing; k: number }[] = [];
  const top = listings.get(start);
  if (top) stack.push({ l: top, k: 0 });
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (!frame) break;
    const name = frame.l.names[frame.k];
    if (name === undefined) {
      stack.pop();
      continue;
    }
    const path = joinPath(frame.l.image, name);
    const facts = factsFrom(frame.l, frame.k++);
    index.set(path, facts);
    const below = facts.type === 'dir' ? listings.get(path) : undefined;
    if (below) stack.push({ l: below, k: 0 });
  }
  return index;
}
