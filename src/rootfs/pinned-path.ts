/**
 * Paths Kiln made or saw in a rootfs and touches again later, after untrusted code (a RUN step)
 * or untrusted tar entries ran in between (ARCHITECTURE.md §7): mount points and /dev nodes made for a
 * step, a `#!` heredoc's file, deferred directory mtimes, extended attributes.
 *
 * A host path computed before is not safe to reuse: the step (or a later entry) may have put a
 * symlink in one of its parents, and the host kernel would follow it out of the rootfs. So a
 * path is pinned as (image path, dev, inode, type) when Kiln makes or sees it, and found again
 * through the rootfs resolver — parents resolved inside the root, the last component never
 * followed — then acted on only if it is still that inode and type. Anything else is left
 * alone: never act on whatever is there now. Node has no openat/unlinkat, so this is
 * re-resolve + lstat + compare, then act on the host path with calls that do not follow a final
 * symlink (rmdir, unlink, lutimes, `setfattr -h`); the window in between is as small as it gets
 * without directory fds, and the main case — a step that is over by then — has no window at all.
 */
import type { Stats } from 'node:fs';
import { lstatSync, lutimesSync, rmdirSync, unlinkSync } from './host-fs.js';
import { errnoCode, fsError } from '../errors.js';

/** The type of a pinned path, as lstat(2) saw it. */
export type PinnedKind = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** A path and the inode it named when pinned. */
export interface PinnedPath {
  /** Absolute image path (in the resolver's root). */
  readonly imagePath: string;
  readonly dev: number;
  readonly ino: number;
  readonly kind: PinnedKind;
}

/**
 * Maps an image path to a host path, parents resolved inside the root and the last component not
 * followed: a `Rootfs`, or a `CachedResolver` its owner keeps valid.
 */
export interface PathResolver {
  resolve(imagePath: string): Promise<string>;
}

function kindOf(st: Stats): PinnedKind {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/** Pins `imagePath` to the inode `st` describes (its lstat, or the fstat of a descriptor opened there). */
export function pinStats(imagePath: string, st: Stats): PinnedPath {
  return { imagePath, dev: st.dev, ino: st.ino, kind: kindOf(st) };
}

/** lstat that answers undefined for a path that is not there (or runs through a non-directory). */
function lstatOrUndefined(host: string): Stats | undefined {
  try {
    return lstatSync(host, { throwIfNoEntry: false });
  } catch (err) {
    if (errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Pins what is at `imagePath` now; undefined when nothing is. */
export async function pin(resolver: PathResolver, imagePath: string): Promise<PinnedPath | undefined> {
  const st = lstatOrUndefined(await resolver.resolve(imagePath));
  return st && pinStats(imagePath, st);
}

/**
 * The host path of `pinned` if its image path still names the pinned inode, reached without
 * following a symlink; undefined otherwise. A path that no longer resolves (a symlink loop, a
 * symlink out of the root in strict mode, a name grown too long) was changed under us: also
 * undefined, never an error, since every caller's answer to that is to leave it alone.
 */
export async function locate(resolver: PathResolver, pinned: PinnedPath): Promise<string | undefined> {
  let host: string;
  try {
    host = await resolver.resolve(pinned.imagePath);
  } catch {
    return undefined;
  }
  const st = lstatOrUndefined(host);
  if (!st || st.dev !== pinned.dev || st.ino !== pinned.ino || kindOf(st) !== pinned.kind) return undefined;
  return host;
}

/** What {@link removePinned} did. */
export type RemoveOutcome = 'removed' | 'kept-nonempty' | 'moved';

/**
 * Removes a pinned path Kiln made: a directory only while empty (what a step wrote into it is
 * its output), anything else with unlink. `moved`: it is gone or no longer the pinned inode,
 * and nothing was touched.
 */
export async function removePinned(resolver: PathResolver, pinned: PinnedPath): Promise<RemoveOutcome> {
  const host = await locate(resolver, pinned);
  if (host === undefined) return 'moved';
  try {
    if (pinned.kind === 'dir') rmdirSync(host);
    else unlinkSync(host);
    return 'removed';
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return 'kept-nonempty';
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'moved';
    throw err;
  }
}

/**
 * Sets the access and modification times of a pinned path, never following a final symlink;
 * false (and nothing set) when it is not the pinned inode any more.
 */
export async function setPinnedTimes(resolver: PathResolver, pinned: PinnedPath, time: Date): Promise<boolean> {
  const host = await locate(resolver, pinned);
  if (host === undefined) return false;
  try {
    lutimesSync(host, time, time);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * Directory times deferred to the end of a layer or archive (writing an entry changes its
 * directory's mtime, so they are set last, as Docker's archive.Untar does), each pinned to the
 * directory it was read for: a later entry that turns a parent into a symlink must not carry the
 * time to whatever the symlink names.
 */
export class DeferredTimes {
  private readonly times = new Map<string, { pinned: PinnedPath; time: Date }>();

  /** Remembers `time` for the directory at `imagePath`, whose lstat is `st` (a later call for the same path wins). */
  set(imagePath: string, st: Stats, time: Date): void {
    this.times.set(imagePath, { pinned: pinStats(imagePath, st), time });
  }

  /**
   * Sets every remembered time; a directory removed, moved or replaced since is skipped.
   * `doing` prefixes the message of a failure (the layer or archive).
   */
  async apply(resolver: PathResolver, doing: string): Promise<void> {
    for (const { pinned, time } of this.times.values()) {
      try {
        await setPinnedTimes(resolver, pinned, time);
      } catch (err) {
        throw fsError(`${doing}: setting mtime of ${pinned.imagePath}`, err);
      }
    }
    this.times.clear();
  }
}
