/**
 * The snapshotter: how a step that cannot name its changes (RUN) finds them. `begin()` takes a
 * file index of the rootfs before the step; `end()` takes one after and returns the diff
 * (DESIGN.md §4), reporting what it cost.
 */
import type { Logger } from '../log.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { diffIndexes, type Change } from './diff.js';
import { indexRootfs } from './file-index.js';

export interface SnapshotterOptions {
  rootfs: Rootfs;
  logger: Logger;
  now: () => Date;
  /** Image paths never captured (Kiln's own mounts, --ignore-path). */
  skip?: (imagePath: string) => boolean;
}

export interface PendingSnapshot {
  /** Indexes the rootfs again and returns what changed since `begin()`. */
  end(): Promise<Change[]>;
}

export interface Snapshotter {
  begin(): Promise<PendingSnapshot>;
}

export function createSnapshotter(opts: SnapshotterOptions): Snapshotter {
  const skip = opts.skip ?? (() => false);
  const ms = (): number => opts.now().getTime();
  return {
    async begin() {
      const t0 = ms();
      const before = await indexRootfs(opts.rootfs, { skip });
      const indexBeforeMs = ms() - t0;
      return {
        async end() {
          const t1 = ms();
          const after = await indexRootfs(opts.rootfs, { skip });
          const changes = diffIndexes(before, after);
          // Reported so that `npm run bench` can hold the snapshot cost to its target (issue 3).
          opts.logger.debug('snapshot', { files: after.size, changes: changes.length, indexBeforeMs, snapshotMs: ms() - t1 });
          return changes;
        },
      };
    },
  };
}
