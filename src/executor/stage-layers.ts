/**
 * How a stage's steps become layers, per Kaniko's layer flags: one layer per step that changed
 * something, or with `--single-snapshot` one layer for the whole stage, taken at its end
 * against the filesystem as the base left it; `--ignore-path`/`--ignore-var-run` paths never
 * reach a layer; `--snapshot-mode` decides what counts as changed; `--compression(-level)`,
 * `--reproducible` and SOURCE_DATE_EPOCH shape the blobs.
 */
import { lstat } from '../rootfs/host-fs.js';
import { posix } from 'node:path';
import type { BlobStore } from '../cache/blob-store.js';
import type { Logger } from '../log.js';
import type { Layer } from '../oci/image.js';
import { ignored } from '../rootfs/list-dir.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { factsOf } from '../rootfs/file-facts.js';
import { ContentCache } from '../snapshot/content-cache.js';
import { LiveIndex } from '../snapshot/live-index.js';
import type { Change } from '../rootfs/change.js';
import type { SnapshotMode } from '../snapshot/diff.js';
import { createSnapshotter, type PendingSnapshot, type Snapshotter } from '../snapshot/snapshotter.js';
import { buildLayer, type LayerCompression, type LayerUpload } from '../layers/build-layer.js';
import type { ExtractOptions } from '../layers/extract.js';
import type { LayerTools } from '../layers/tools.js';
import type { StepResult } from '../commands/step.js';

/** The layer flags of a build, as BuildOptions carries them. */
export interface LayerSettings {
  snapshotMode: SnapshotMode;
  singleSnapshot: boolean;
  /** Image paths never captured: `--ignore-path`s, and /var/run with `--ignore-var-run`. */
  ignorePaths: readonly string[];
  compression: LayerCompression;
  /** Undefined: the compression's default level. */
  compressionLevel?: number;
  /** `--force-build-metadata`: a step that changed nothing still adds a layer, an empty one. */
  forceBuildMetadata?: boolean;
}

/** What {@link createStageLayers} needs. */
export interface StageLayersOptions {
  rootfs: Rootfs;
  store: BlobStore;
  logger: Logger;
  now: () => Date;
  signal: AbortSignal;
  tools: LayerTools;
  settings: LayerSettings;
  /** New layers' mtimes are clamped to this (`--reproducible`: the epoch; SOURCE_DATE_EPOCH). */
  clampMtime?: Date;
  /**
   * An in-place build's kept paths (`rootfs/in-place.ts`): besides never being captured, like
   * `ignorePaths`, base extraction neither writes nor removes them.
   */
  keep?: readonly string[];
  /** Where new layers also stream while they are made (build-layer.ts, {@link LayerUpload}). */
  upload?: () => Promise<LayerUpload | undefined>;
}

/** A stage's layering: the snapshotter RUN uses, and the layers of its steps. */
export interface StageLayers {
  /**
   * The snapshotter RUN steps use; none with --single-snapshot, where the stage's one snapshot
   * is taken by {@link StageLayers.finish} against the rootfs as the base left it.
   */
  readonly snapshotter: Snapshotter | undefined;
  /** What base extraction into this stage's rootfs needs (host tools, content identities). */
  readonly extraction: Omit<ExtractOptions, 'layerName' | 'logger' | 'signal'>;
  /** Call once the base is in the rootfs and before the first step. */
  start(): Promise<void>;
  /**
   * Call after more layers were extracted into the rootfs once {@link start} had run (cached
   * layers brought in between steps): the snapshotter's index learns what they wrote.
   */
  extracted(): Promise<void>;
  /** Whether changes an earlier step deferred (VOLUME) wait for the next layer: that step cannot come from the cache. */
  readonly deferring: boolean;
  /**
   * The layer of one step's changes, with the changes earlier steps deferred to it (a VOLUME's
   * directories, {@link StepResult.deferred}); none when nothing changed (unless
   * --force-build-metadata), or with --single-snapshot.
   */
  step(result: Pick<StepResult, 'changes' | 'fromSnapshot' | 'deferred'>): Promise<Layer | undefined>;
  /** After the last step: with --single-snapshot, the stage's one layer. */
  finish(): Promise<Layer | undefined>;
}

/** The directories above kept paths, `/` excluded. */
function keptAncestors(keep: readonly string[]): Set<string> {
  const dirs = new Set<string>();
  for (const path of keep) {
    for (let dir = posix.dirname(path); dir !== '/' && dir !== '.'; dir = posix.dirname(dir)) dirs.add(dir);
  }
  return dirs;
}

/** The layering of one stage's rootfs, per the build's layer flags (see {@link StageLayers}). */
export function createStageLayers(o: StageLayersOptions): StageLayers {
  const s = o.settings;
  const keep = o.keep ?? [];
  const ignore = keep.length > 0 ? [...new Set([...s.ignorePaths, ...keep])] : s.ignorePaths;
  const contentCache = s.snapshotMode === 'full' ? new ContentCache() : undefined;
  // The rootfs as base extraction leaves it: the first snapshot starts from it instead of a scan.
  const liveIndex = new LiveIndex();
  const xattrs = o.tools.xattrs;
  const real = createSnapshotter({
    rootfs: o.rootfs,
    logger: o.logger,
    now: o.now,
    ignore,
    mode: s.snapshotMode,
    ...(contentCache ? { contentCache } : {}),
    ...(xattrs ? { capabilities: (hosts: string[]) => xattrs.capabilities(hosts, o.signal) } : {}),
  });
  const build = (changes: Change[], allowEmpty = false): Promise<Layer | undefined> =>
    buildLayer(
      o.rootfs,
      changes.filter((c) => !ignored(c.path, ignore)),
      o.store,
      {
        signal: o.signal,
        compression: s.compression,
        ...(s.compressionLevel !== undefined ? { compressionLevel: s.compressionLevel } : {}),
        ...(o.clampMtime ? { clampMtime: o.clampMtime } : {}),
        ...(o.tools.zstd ? { zstd: o.tools.zstd } : {}),
        ...(xattrs ? { xattrs } : {}),
        ...(contentCache ? { contentCache } : {}),
        ...(o.upload ? { upload: o.upload } : {}),
        ...(allowEmpty ? { allowEmpty } : {}),
      },
    );
  let baseline: PendingSnapshot | undefined;
  // Changes deferred to the next step that has changes of its own: Kaniko snapshots a VOLUME's
  // directories "in the next command". A stage that ends first leaves them out, as Kaniko does.
  let deferred: Change[] = [];
  return {
    snapshotter: s.singleSnapshot ? undefined : real,
    extraction: {
      ...(o.tools.mknod ? { mknod: o.tools.mknod } : {}),
      ...(xattrs ? { xattrs } : {}),
      ...(o.tools.zstd ? { zstd: o.tools.zstd } : {}),
      ...(contentCache ? { contentCache } : {}),
      ...(keep.length > 0 ? { ignore: keep } : {}),
      observer: liveIndex,
    },
    async start() {
      const index = liveIndex.take();
      // In place, the directories leading to kept paths (/run above /run/.containerenv) stayed
      // through the clearing of `/`: the base did not make them, but no step did either.
      for (const dir of keptAncestors(keep)) {
        if (index.has(dir)) continue;
        const st = await lstat(await o.rootfs.resolve(dir)).catch(() => undefined);
        if (st?.isDirectory()) index.set(dir, factsOf(st));
      }
      real.seed(index);
      if (s.singleSnapshot) baseline = await real.begin();
    },
    async extracted() {
      const paths = liveIndex.takePaths();
      await real.pathsChanged(paths.map((path) => ({ kind: 'upsert', path })));
    },
    get deferring() {
      return deferred.length > 0;
    },
    async step({ changes, fromSnapshot, deferred: later = [] }) {
      // --single-snapshot: the stage's one snapshot, at its end, finds deferred paths with the rest.
      if (s.singleSnapshot) return undefined;
      let all = changes;
      // RUN's snapshot found the deferred paths itself: the kept index never learnt of them.
      if (fromSnapshot) deferred = [];
      else if (changes.length > 0 || s.forceBuildMetadata === true) {
        const named = new Set(changes.map((c) => c.path));
        all = [...deferred.filter((c) => !named.has(c.path)), ...changes];
        deferred = [];
      }
      deferred.push(...later);
      const layer = await build(all, s.forceBuildMetadata === true);
      // RUN's own snapshot already indexed what it changed; for other steps the kept index must learn it.
      if (!fromSnapshot) await real.pathsChanged(all);
      return layer;
    },
    async finish() {
      try {
        if (!baseline) return undefined;
        const changes = await baseline.end();
        baseline = undefined;
        return await build(changes);
      } finally {
        await real.dispose();
      }
    },
  };
}
