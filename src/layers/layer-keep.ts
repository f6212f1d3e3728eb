/**
 * How layer extraction honours the paths an in-place build keeps (`--rootfs=/`, ARCHITECTURE.md §4:
 * mount points, Kiln's own directory, `--ignore-path`s): entries there are skipped, and
 * whiteouts and replaced paths remove everything around them but never them.
 */
import { removeExcept } from '../rootfs/clear.js';
import { holdsIgnored, ignored } from '../rootfs/list-dir.js';
import type { Rootfs } from '../rootfs/rootfs.js';

/** One entry as {@link keptEntryReason} sees it. */
export interface EntryPlace {
  /** The entry's image path, by its name. */
  imagePath: string;
  /** Where it resolved in the rootfs (parent symlinks followed inside the root). */
  host: string;
  isDir: boolean;
  /** A hardlink's target, resolved. */
  linkTargetHost?: string;
}

/**
 * Why an entry (or a whiteout marker) must be skipped by its name alone, before it is resolved:
 * it lies at or below a kept path. Checked first, since a kept path is the container's, not the
 * layer's, and resolving through it (strictly, as for untrusted layers) could refuse the layer.
 */
export function keptByName(keep: readonly string[] | undefined, imagePath: string): string | undefined {
  return keep && keep.length > 0 && ignored(imagePath, keep) ? 'the in-place build keeps it' : undefined;
}

/**
 * Why an entry must be skipped, or undefined when it may be applied: it lies at or below a kept
 * path (by its name, or where its parent symlinks lead); it is not a directory and a kept path
 * lies below it (it would replace the directory holding that path); or it is a hardlink to a
 * kept file (a second name would let the image's steps write into it).
 */
export function keptEntryReason(
  rootfs: Rootfs,
  keep: readonly string[] | undefined,
  e: EntryPlace,
): string | undefined {
  if (!keep || keep.length === 0) return undefined;
  const canonical = rootfs.imagePathOf(e.host);
  if (ignored(e.imagePath, keep) || ignored(canonical, keep)) return 'the in-place build keeps it';
  if (!e.isDir && holdsIgnored(canonical, keep)) return 'the in-place build keeps a path below it';
  if (e.linkTargetHost !== undefined && ignored(rootfs.imagePathOf(e.linkTargetHost), keep))
    return 'its hardlink target is kept by the in-place build';
  return undefined;
}

/** A removal that spares kept paths (see `rootfs/clear.ts`), or undefined when nothing is kept. */
export function keepingRemover(
  rootfs: Rootfs,
  keep: readonly string[] | undefined,
): ((host: string) => void) | undefined {
  if (!keep || keep.length === 0) return undefined;
  return (host) => void removeExcept(host, rootfs.imagePathOf(host), keep);
}
