/**
 * What a step changed, computed from two file indexes (DESIGN.md §4). PURE: no filesystem.
 * Whiteouts follow the OCI image spec (layer.md "Whiteouts"): a deleted path is hidden by a
 * `.wh.<name>` entry beside it, and a directory whose lower contents must all vanish gets an
 * opaque whiteout `.wh..wh..opq`.
 */
import { comparePaths, parentPath } from '../rootfs/image-path.js';
import type { FileFacts, FileIndex } from './file-index.js';

/** One change to put in a layer. */
export type Change = { kind: 'upsert'; path: string } | { kind: 'whiteout'; path: string } | { kind: 'opaque'; path: string };

/** Whether a path's entry must be written again. */
function changed(a: FileFacts, b: FileFacts): boolean {
  if (a.type !== b.type || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return true;
  // A directory's size and times change whenever an entry is added or removed; those entries
  // are captured themselves, and the packer re-adds parent directories of changed paths.
  if (a.type === 'dir') return false;
  return (
    a.size !== b.size ||
    a.mtimeMs !== b.mtimeMs ||
    a.ctimeMs !== b.ctimeMs ||
    a.ino !== b.ino ||
    a.linkTarget !== b.linkTarget
  );
}

/** A directory deleted and made again: same path, still a directory, a different inode. */
function replacedDir(a: FileFacts, b: FileFacts): boolean {
  return a.type === 'dir' && b.type === 'dir' && a.ino !== b.ino;
}

/**
 * What changed between two indexes. A path is 'upsert' when new or when type, mode, uid, gid,
 * size, mtime, ctime, ino or link target differ — EXCEPT directories, whose own entry counts as
 * changed only when type/mode/uid/gid differ. Deleted paths become 'whiteout' for the top-most
 * deleted path only. A directory that was replaced (different ino) becomes 'opaque' (which
 * implies its own entry) + upserts of all its current contents. Sorted by path ({@link comparePaths}).
 */
export function diffIndexes(before: FileIndex, after: FileIndex): Change[] {
  const changes: Change[] = [];
  // Opaque directories found so far; everything below one is written again in full.
  const opaque = new Set<string>();
  const underOpaque = (p: string): boolean => {
    for (let d = parentPath(p); ; d = parentPath(d)) {
      if (opaque.has(d)) return true;
      if (d === '/') return false;
    }
  };
  // Sorted so that a directory is decided before its contents.
  for (const [path, now] of [...after].sort((a, b) => comparePaths(a[0], b[0]))) {
    const was = before.get(path);
    if (underOpaque(path)) {
      changes.push({ kind: 'upsert', path });
    } else if (was && replacedDir(was, now)) {
      opaque.add(path);
      changes.push({ kind: 'opaque', path });
    } else if (!was || changed(was, now)) {
      changes.push({ kind: 'upsert', path });
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
  return changes.sort((a, b) => comparePaths(a.path, b.path));
}
