/**
 * What a step changed, computed from two file indexes (ARCHITECTURE.md §5). PURE: no filesystem.
 * Whiteouts follow the OCI image spec (layer.md "Whiteouts"): a deleted path is hidden by a
 * `.wh.<name>` entry beside it, and a directory whose lower contents must all vanish gets an
 * opaque whiteout `.wh..wh..opq`. What counts as a change follows Kaniko's `--snapshot-mode`.
 */
import { comparePaths, parentPath } from '../rootfs/image-path.js';
import type { Change } from '../rootfs/change.js';
import type { FileFacts } from '../rootfs/file-facts.js';
import type { FileIndex } from './file-index.js';

/**
 * Kaniko's `--snapshot-mode`: which file attributes a snapshot looks at.
 * - `full` (default): type, mode, owner, mtime, link target and content (Kaniko's Hasher hashes
 *   the mtime with the content). Content is compared only for candidates (see {@link classify}),
 *   by identity.
 * - `redo`: type, mode, owner, size, mtime, link target (Kaniko's RedoHasher).
 * - `time`: mtime only (Kaniko's MtimeHasher): a chmod or chown alone is not seen.
 */
export type SnapshotMode = 'full' | 'redo' | 'time';

/**
 * Whether a path changed: surely, surely not, (full mode) only if its content identity did, or
 * (a directory) only in its mtime.
 */
export type Verdict = 'changed' | 'same' | 'candidate' | 'dir-time';

/** A directory deleted and made again: same path, still a directory, a different inode. */
function replacedDir(a: FileFacts, b: FileFacts): boolean {
  return a.type === 'dir' && b.type === 'dir' && a.ino !== b.ino;
}

/**
 * How a path that exists before and after compares under `mode` (replaced directories aside).
 * An mtime that moved is a change in every mode, even with the same bytes (`touch -d`, a file
 * rewritten as it was): the image must carry the new time, as Docker's overlay diff, Kaniko and
 * Buildah record it. A directory whose mtime alone moved is 'dir-time' ({@link diffIndexes}
 * decides).
 */
export function classify(a: FileFacts, b: FileFacts, mode: SnapshotMode): Verdict {
  if (a.type !== b.type) return 'changed';
  const timeMoved = a.mtimeMs !== b.mtimeMs;
  if (mode !== 'time' && (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid)) return 'changed';
  // A directory's size and ctime change whenever an entry is added or removed: those entries are
  // captured themselves, and the packer re-adds parent directories of changed paths.
  if (a.type === 'dir') return timeMoved ? 'dir-time' : 'same';
  if (timeMoved) return 'changed';
  if (mode === 'time') return 'same';
  if (a.linkTarget !== b.linkTarget || a.rdev !== b.rdev) return 'changed';
  if (mode === 'redo') return a.size !== b.size ? 'changed' : 'same';
  if (a.type !== 'file') return 'same';
  if (a.size !== b.size) return 'changed';
  // Same size and mtime: a new inode or ctime (setcap, a rename over it, a rewrite that kept the
  // mtime) changed it only if its content identity did.
  return a.ctimeMs === b.ctimeMs && a.ino === b.ino ? 'same' : 'candidate';
}

/** Paths whose content identity decides whether they changed (`full` mode only). */
export function candidates(before: FileIndex, after: FileIndex, mode: SnapshotMode): string[] {
  if (mode !== 'full') return [];
  const out: string[] = [];
  for (const [path, now] of after) {
    const was = before.get(path);
    if (was && classify(was, now, mode) === 'candidate') out.push(path);
  }
  return out;
}

/** The index's entries in {@link comparePaths} order; a scan's index already is, and is not copied. */
function inPathOrder(index: FileIndex): Iterable<[string, FileFacts]> {
  let previous: string | undefined;
  for (const path of index.keys()) {
    if (previous !== undefined && comparePaths(previous, path) > 0)
      return [...index].sort((a, b) => comparePaths(a[0], b[0]));
    previous = path;
  }
  return index;
}

/**
 * The directories of `dirTimes` (whose mtime alone moved) with no change below them. The others
 * moved because an entry in them was added, removed or replaced, and the packer writes them as
 * that entry's parent with their new time anyway; what is left is a `touch` of the directory or
 * a temporary entry made and removed in it, which Docker's overlay diff, Kaniko and Buildah all
 * put in the layer.
 */
function dirTimesAlone(dirTimes: readonly string[], changes: readonly Change[]): Change[] {
  if (dirTimes.length === 0) return [];
  const parents = new Set<string>();
  for (const c of changes) {
    for (let d = parentPath(c.path); d !== '/' && !parents.has(d); d = parentPath(d)) parents.add(d);
  }
  return dirTimes.filter((d) => !parents.has(d)).map((path) => ({ kind: 'upsert', path }));
}

/** Options of {@link diffIndexes}. */
export interface DiffOptions {
  /** Default `full`. */
  mode?: SnapshotMode;
  /** Candidates whose content identity was found unchanged; any other candidate counts as changed. */
  unchanged?: ReadonlySet<string>;
  /**
   * Directories in which Kiln itself made and removed entries around the step (mount points,
   * /dev nodes): their mtime alone is no change of the step's.
   */
  kilnTouched?: ReadonlySet<string>;
}

/**
 * What changed between two indexes, by {@link classify}. Deleted paths become 'whiteout' for
 * the top-most deleted path only. A directory that was replaced (different ino) becomes
 * 'opaque' (which implies its own entry) + upserts of all its current contents. Sorted by
 * path ({@link comparePaths}).
 */
export function diffIndexes(before: FileIndex, after: FileIndex, opts: DiffOptions = {}): Change[] {
  const mode = opts.mode ?? 'full';
  const unchanged = opts.unchanged ?? new Set<string>();
  const kilnTouched = opts.kilnTouched ?? new Set<string>();
  const changes: Change[] = [];
  // Directories whose mtime alone moved.
  const dirTimes: string[] = [];
  // Opaque directories found so far; everything below one is written again in full.
  const opaque = new Set<string>();
  const underOpaque = (p: string): boolean => {
    if (opaque.size === 0) return false;
    for (let d = parentPath(p); ; d = parentPath(d)) {
      if (opaque.has(d)) return true;
      if (d === '/') return false;
    }
  };
  // Sorted so that a directory is decided before its contents (a scan's order already is).
  for (const [path, now] of inPathOrder(after)) {
    const was = before.get(path);
    if (underOpaque(path)) {
      changes.push({ kind: 'upsert', path });
    } else if (was && replacedDir(was, now)) {
      opaque.add(path);
      changes.push({ kind: 'opaque', path });
    } else if (!was) {
      changes.push({ kind: 'upsert', path });
    } else {
      const verdict = classify(was, now, mode);
      if (verdict === 'changed' || (verdict === 'candidate' && !unchanged.has(path)))
        changes.push({ kind: 'upsert', path });
      else if (verdict === 'dir-time' && !kilnTouched.has(path)) dirTimes.push(path);
    }
  }
  for (const path of before.keys()) {
    if (after.has(path)) continue;
    // Only the top-most deleted path gets a whiteout: its parent must still be the same
    // directory. A parent that is gone has its own whiteout; a parent that became a file or a
    // symlink replaces the whole subtree on extraction; a replaced parent is opaque.
    const parent = parentPath(path);
    const parentNow = after.get(parent);
    const parentWas = before.get(parent);
    if (parent !== '/') {
      if (!parentNow || !parentWas || parentNow.type !== 'dir' || replacedDir(parentWas, parentNow)) continue;
      if (underOpaque(path)) continue;
    }
    changes.push({ kind: 'whiteout', path });
  }
  changes.push(...dirTimesAlone(dirTimes, changes));
  return changes.sort((a, b) => comparePaths(a.path, b.path));
}
