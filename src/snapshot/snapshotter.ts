/**
 * The snapshotter: how a step that cannot name its changes (RUN) finds them. `begin()` takes a
 * file index of the rootfs before the step; `end()` takes one after and returns the diff
 * (ARCHITECTURE.md §5), reporting what it cost. The index taken after one RUN is the index before
 * the next, kept current by `pathsChanged()` for steps that name their changes (COPY, WORKDIR):
 * a stage pays one full scan per RUN, plus one for its first.
 */
import type { Logger } from '../log.js';
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

export interface PendingSnapshot {
  /** Indexes the rootfs again and returns what changed since `begin()`. */
  end(): Promise<Change[]>;
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
  return {
    async begin() {
      const t0 = ms();
      const before = current ?? (await index());
      current = undefined; // whatever happens until end(), it is stale
      const indexBeforeMs = ms() - t0;
      return {
        async end() {
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
          const changes = diffIndexes(before, after, { mode, unchanged });
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
      }
    },
    seed(seeded) {
      // Ignored paths are never in an index (extraction wrote them, scans skip them).
      for (const p of seeded.keys()) if (ignored(p, ignore)) seeded.delete(p);
      current = seeded;
    },
    async dispose() {
      const p = pool;
      pool = null;
      await p?.close();
    },
  };
}
