/**
 * A test helper: the change list of a step that knows what it touched (the named paths and
 * everything below them), for tests that pack or snapshot a rootfs they prepared by hand.
 * Production steps report their own changes (ARCHITECTURE.md §5).
 */
import { comparePaths } from '../../src/rootfs/image-path.js';
import type { Rootfs } from '../../src/rootfs/rootfs.js';
import { walk } from '../../src/rootfs/walk.js';
import type { Change } from '../../src/rootfs/change.js';

/**
 * Upsert changes for every path under each given image path (the path itself and, for
 * directories, everything below), used after COPY/WORKDIR which know what they touched. Paths
 * are canonical (a symlinked parent is reported at its target), sorted and without duplicates;
 * paths that do not exist are left out. A symlink given as a path is itself the change, not
 * what it points to.
 */
export async function changesForPaths(rootfs: Rootfs, paths: string[]): Promise<Change[]> {
  const seen = new Set<string>();
  for (const start of paths) {
    for await (const entry of walk(rootfs, { start })) seen.add(entry.path);
  }
  return [...seen].sort(comparePaths).map((path) => ({ kind: 'upsert', path }));
}
