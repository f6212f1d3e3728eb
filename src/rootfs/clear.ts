/**
 * Removal that spares kept paths: what an in-place build (`--rootfs=/`, ARCHITECTURE.md §4) does to `/`
 * before unpacking the base, and what its whiteouts and replaced paths do during extraction.
 * Kept paths are mount points, Kiln's own directory and `--ignore-path`s (see `in-place.ts`):
 * they stay, with their contents, and so do the directories that lead to them. Synchronous, as
 * extraction is; `rm` never follows symlinks.
 */
import { lstatSync, readdirSync, rmSync } from './host-fs.js';
import { join } from 'node:path';
import { fsError } from '../errors.js';
import { joinPath } from './image-path.js';
import { holdsIgnored, ignored } from './list-dir.js';
import type { Rootfs } from './rootfs.js';

/**
 * Removes what is at `host` (image path `imagePath`) except the `keep` paths: a kept path stays
 * whole; a directory holding one stays, emptied of everything else; anything that is not a
 * directory on the way to a kept path (a symlink, say) stays too, rather than risk what is behind
 * it. Returns how many paths were removed (a removed directory counts once).
 */
export function removeExcept(host: string, imagePath: string, keep: readonly string[]): number {
  if (ignored(imagePath, keep)) return 0;
  try {
    if (!holdsIgnored(imagePath, keep)) {
      rmSync(host, { recursive: true, force: true });
      return 1;
    }
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return 0;
    return removeChildren(host, imagePath, keep);
  } catch (err) {
    throw fsError(`removing ${imagePath}`, err);
  }
}

function removeChildren(host: string, imagePath: string, keep: readonly string[]): number {
  let removed = 0;
  for (const name of readdirSync(host)) removed += removeExcept(join(host, name), joinPath(imagePath, name), keep);
  return removed;
}

/**
 * Empties the rootfs for an in-place build: everything under its root goes except the `keep`
 * paths and the directories leading to them. Returns how many paths were removed.
 */
export function clearRootfs(rootfs: Rootfs, keep: readonly string[]): number {
  try {
    return removeChildren(rootfs.root, '/', keep);
  } catch (err) {
    throw fsError(`clearing ${rootfs.root} for an in-place build`, err);
  }
}
