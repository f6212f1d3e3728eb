/**
 * What an in-place build (`--rootfs=/`, ARCHITECTURE.md §4) must never touch: it neither deletes,
 * extracts over nor snapshots these paths or anything below them. In place, image paths and
 * host paths are the same, so the list serves as both. PURE.
 */
import { posix } from 'node:path';
import { comparePaths, isWithin } from './image-path.js';
import { parseMountinfo } from './mountinfo.js';

/** Kernel filesystems a container always has; kept even when mountinfo cannot be read. */
export const ALWAYS_KEPT: readonly string[] = ['/dev', '/proc', '/sys'];

/** Inputs of {@link inPlaceKeepList}. */
export interface KeepListInput {
  /** Text of `/proc/self/mountinfo`: every mount point but `/` is kept (volumes, secrets, /etc/resolv.conf, …). */
  mountinfo: string;
  /**
   * Host paths the build needs until it ends: `--kaniko-dir`, the build's work dir, the
   * context, Kiln's own files, secrets and credentials read late — each also by its real path
   * when a symlink leads there. `/` among them is dropped (the caller refuses it first).
   */
  own: readonly string[];
  /** `--ignore-path`s, and `/var/run` with `--ignore-var-run`. */
  ignorePaths: readonly string[];
}

/**
 * The paths an in-place build keeps, normalised, sorted and minimal (a path below another kept
 * path is covered by it). Never contains `/`.
 */
export function inPlaceKeepList(input: KeepListInput): string[] {
  const mountPoints = parseMountinfo(input.mountinfo).map((m) => m.mountPoint);
  const all = [...ALWAYS_KEPT, ...mountPoints, ...input.own, ...input.ignorePaths]
    .map((p) => posix.resolve('/', p))
    .filter((p) => p !== '/')
    .sort(comparePaths);
  const out: string[] = [];
  for (const p of all) {
    // Sorted depth-first, so a covering path comes right before what it covers.
    const last = out.at(-1);
    if (last === undefined || !isWithin(p, last)) out.push(p);
  }
  return out;
}
