/**
 * The snapshotter: how a step that cannot name its changes (RUN) finds them. `begin()` takes a
 * file index of the rootfs before the step; `end()` takes one after and returns the diff
 * (ARCHITECTURE.md §5), reporting what it cost. The index taken after one RUN is the index before
 * the next, kept current by `pathsChanged()` for steps that name their changes (COPY, WORKDIR):
 * a stage pays one full scan per RUN, plus one for its first.
 */
import { errnoCode, fsError } from '../errors.js';
import type { Logger } from '../log.js';
import { factsOf } from '../rootfs/file-facts.js';
import { lstatSync } from '../rootfs/host-fs.js';
import { parentPath } from '../rootfs/image-path.js';
import { ignored } from '../rootfs/list-dir.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { ContentCache } from './content-cache.js';
import type { Change } from '../rootfs/change.js';
import { candidates, diffIndexes, type SnapshotMode } from './diff.js';
import { indexRootfs, type FileIndex } from './file-index.js';
import { ListingPool } from './listing-pool.js';
import { unchangedCandidates, type CapabilityReader } from './identity.js';

export interface SnapshotterOptions {
  rootfs: Rootfs;
  logger: Logger;
  now: () => Date;
  /** Image paths never captured, with everything below them (--ignore-path, --ignore-var-run). */
  ignore?: readonly string[];
  /** `--snapshot-mode`; default full. */
  mode?: SnapshotMode;
  /** full mode: identities recorded by extraction and packing, compared for candidates. */
  contentCache?: ContentCache;
  /** full mode: reads file capabilities of candidates (part of their identity). */
  capabilities?: CapabilityReader;
}

/** What {@link PendingSnapshot.end} should know of the step. */
export interface EndOptions {
  /**
   * Directories in which Kiln itself made and removed entries around the step (mount points,
   * /dev nodes): a change of their mtime alone is Kiln's, not the step's.
   */
  kilnTouched?: Iterable<string>;
}

export interface PendingSnapshot {
  /** Indexes the rootfs again and returns what changed since `begin()`. */
  end(opts?: EndOptions): Promise<Change[]>;
}

export interface Snapshotter {
  begin(): Promise<PendingSnapshot>;
  /**
   * A step changed these paths itself (COPY, WORKDIR): the kept index is brought up to date for
   * them. Not for the changes `end()` returned: the index it keeps already knows those.
   */
  pathsChanged(changes: Change[]): Promise<void>;
  /** The rootfs is known to be as `index` says (base extraction kept it): the first begin() needs no scan. */
  seed(index: FileIndex): void;
  /** Stops the worker threads of big scans, if any were started. */
  dispose(): Promise<void>;
}

/** The top-most paths of `changes` (a path below another one is covered by it). */
function topPaths(changes: Change[]): string[] {
  const paths = new Set(changes.map((c) => c.path));
  const covered = (p: string): boolean => {
    for (let d = parentPath(p); ; d = parentPath(d)) {
      if (paths.has(d) && d !== p) return true;
      if (d === '/') return false;
    }
  };
  return paths.has('/') ? ['/'] : [...paths].filter((p) => !covered(p));
}

/** A snapshotter of one rootfs (one per stage), keeping its last index between RUNs. */
export function createSnapshotter(opts: SnapshotterOptions): Snapshotter {
  const ignore = opts.ignore ?? [];
  const mode = opts.mode ?? 'full';
  const ms = (): number => opts.now().getTime();
  // Made on the first scan; a tree too small to need it never wakes its workers.
  let pool: ListingPool | undefined | null = null;
  const index = (start?: string): Promise<FileIndex> => {
    if (pool === null) pool = ListingPool.create();
    return indexRootfs(opts.rootfs, { ignore, ...(start === undefined ? {} : { start }), ...(pool ? { pool } : {}) });
  };
  /** The index as of the end of the last RUN, kept current; undefined until the first RUN. */
  let current: FileIndex | undefined;
  /** A seeded index whose directory facts extraction left stale (see {@link refreshDirs}). */
  let staleDirs = false;
  const hostOf = (path: string): string => (opts.rootfs.root === '/' ? path : opts.rootfs.root + path);
  /** Reads the facts of directory `path` (canonical, as an index holds it) again. */
  const refresh = (idx: FileIndex, path: string): void => {
    let st;
    try {
      st = lstatSync(hostOf(path), { throwIfNoEntry: false });
    } catch (err) {
      // Gone under a parent that is no directory now: the next scan finds what is there.
      if (errnoCode(err) === 'ENOTDIR') return;
      throw fsError(`inspecting ${path}`, err);
    }
    if (st?.isDirectory()) idx.set(path, factsOf(st));
  };
  return {
    async begin() {
      const t0 = ms();
      if (current && staleDirs) {
        // Extraction sets a directory's mtime at the end of its layer, and a later layer that
        // writes into it moves it again: the live index cannot follow that, so the directories
        // (a few percent of the paths) are read again once, before the first step compares mtimes.
        for (const [path, facts] of current) if (facts.type === 'dir') refresh(current, path);
      }
      staleDirs = false;
      const before = current ?? (await index());
      current = undefined; // whatever happens until end(), it is stale
      const indexBeforeMs = ms() - t0;
      return {
        async end(endOpts = {}) {
          const t1 = ms();
          const after = await index();
          const candidatePaths = candidates(before, after, mode);
          const unchanged = opts.contentCache
            ? await unchangedCandidates(candidatePaths, before, after, {
                rootfs: opts.rootfs,
                cache: opts.contentCache,
                ...(opts.capabilities ? { capabilities: opts.capabilities } : {}),
              })
            : new Set<string>();
          const kilnTouched = new Set(endOpts.kilnTouched ?? []);
          const changes = diffIndexes(before, after, { mode, unchanged, kilnTouched });
          current = after;
          // Reported so that `npm run bench` can hold the snapshot cost to its target (issue 6).
          opts.logger.debug('snapshot', {
            files: after.size,
            changes: changes.length,
            candidates: candidatePaths.length,
            indexBeforeMs,
            snapshotMs: ms() - t1,
          });
          return changes;
        },
      };
    },
    async pathsChanged(changes) {
      if (!current || changes.length === 0) return;
      const index0 = current;
      const tops = topPaths(changes);
      // A directory's old contents must go; anything else is one entry.
      const dirs = new Set(tops.filter((p) => index0.get(p)?.type === 'dir'));
      if (dirs.size > 0) {
        for (const p of index0.keys()) {
          for (let d = p; ; d = parentPath(d)) {
            if (dirs.has(d)) {
              index0.delete(p);
              break;
            }
            if (d === '/') break;
          }
        }
      }
      for (const top of tops) {
        index0.delete(top);
        if (top === '/') {
          current = await index();
          return;
        }
        // The path may be gone (a whiteout) or behind a symlink: a scan finds what is there now.
        for (const [p, f] of await index(top)) index0.set(p, f);
        // Adding or removing an entry moved the mtime of the directory holding it, which the next
        // RUN would otherwise take for its own change.
        const parent = opts.rootfs.imagePathOf(await opts.rootfs.resolve(parentPath(top), { followFinal: true }));
        if (index0.has(parent)) refresh(index0, parent);
      }
    },
    seed(seeded) {
      // Ignored paths are never in an index (extraction wrote them, scans skip them).
      for (const p of seeded.keys()) if (ignored(p, ignore)) seeded.delete(p);
      current = seeded;
      staleDirs = true;
    },
    async dispose() {
      const p = pool;
      pool = null;
      await p?.close();
    },
  };
}
