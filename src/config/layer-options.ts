/**
 * The layers tier of Kaniko's flags (ARCHITECTURE.md §9): snapshots, ignored paths, compression,
 * reproducibility. Raw values come from the command line; {@link parseLayerOptions} validates them.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { sourceDateEpoch } from './source-date-epoch.js';

export const SNAPSHOT_MODES = ['full', 'redo', 'time'] as const;
export const COMPRESSIONS = ['gzip', 'zstd'] as const;

export const layerRawShape = {
  snapshotMode: z.enum(SNAPSHOT_MODES).default('full'),
  singleSnapshot: z.boolean().default(false),
  ignorePath: z.array(z.string()).default([]),
  ignoreVarRun: z.boolean().default(true),
  compression: z.enum(COMPRESSIONS).default('gzip'),
  compressionLevel: z.union([z.string(), z.number()]).default(-1),
  reproducible: z.boolean().default(false),
  /** Kaniko's `--use-new-run`: accepted, and nothing to do: Kiln's RUN snapshots are already incremental. */
  useNewRun: z.boolean().default(false),
  forceBuildMetadata: z.boolean().default(false),
};

type LayerRaw = z.output<z.ZodObject<typeof layerRawShape>>;

/** Kaniko's layer flags, validated. */
export interface LayerOptions {
  /** `--snapshot-mode`: what a snapshot compares (full: content of candidates; redo: size and mtime; time: mtime). */
  snapshotMode: (typeof SNAPSHOT_MODES)[number];
  /** `--single-snapshot`: one layer per stage, taken at its end. */
  singleSnapshot: boolean;
  /** Image paths never captured in a layer: `--ignore-path`s, and `/var/run` unless `--ignore-var-run=false`. */
  ignorePaths: string[];
  compression: (typeof COMPRESSIONS)[number];
  /** `--compression-level`; undefined: the compression's default (gzip 6, zstd 3). */
  compressionLevel?: number;
  /** `--reproducible`: new layers' file times at the epoch, image and history created 1970-01-01. */
  reproducible: boolean;
  /**
   * Kaniko's `--force-build-metadata`: every instruction adds a layer, an empty one where it
   * changed nothing (ENV, LABEL…), so the image has a layer per history entry.
   */
  forceBuildMetadata: boolean;
}

/** Valid levels of each compression (zlib 0–9; zstd 1–19 and the "ultra" 20–22). */
const LEVELS: Record<LayerOptions['compression'], [number, number]> = { gzip: [0, 9], zstd: [1, 22] };

function compressionLevel(raw: string | number, compression: LayerOptions['compression']): number | undefined {
  const text = String(raw).trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--compression-level "${text}": expected a whole number`);
  const level = Number(text);
  // Kaniko's default -1 means the library's default level.
  if (level === -1) return undefined;
  const [min, max] = LEVELS[compression];
  if (level < min || level > max)
    throw new UsageError(
      `--compression-level ${level}: ${compression} levels are ${min} to ${max} (or -1 for the default)`,
    );
  return level;
}

function ignorePath(p: string): string {
  if (p.trim() === '') throw new UsageError('--ignore-path: the path is empty');
  // Kaniko compares ignore paths with absolute image paths; a relative one is taken from the root.
  return posix.resolve('/', p);
}

/** Validates the layer flags; a bad value is a UsageError naming the flag. */
export function parseLayerOptions(o: LayerRaw, _env: Record<string, string | undefined>): LayerOptions {
  const ignorePaths = [...new Set([...o.ignorePath.map(ignorePath), ...(o.ignoreVarRun ? ['/var/run'] : [])])];
  const level = compressionLevel(o.compressionLevel, o.compression);
  return {
    snapshotMode: o.snapshotMode,
    // Kaniko snapshots every instruction when metadata is forced, --single-snapshot or not
    // (`!shouldTakeSnapshot(...) && !opts.ForceBuildMetadata` in its stage builder).
    singleSnapshot: o.singleSnapshot && !o.forceBuildMetadata,
    ignorePaths,
    compression: o.compression,
    ...(level !== undefined ? { compressionLevel: level } : {}),
    reproducible: o.reproducible,
    forceBuildMetadata: o.forceBuildMetadata,
  };
}

/**
 * The times of new content: `created` for the image config and history, `clampMtime` for the
 * files of new layers. `--reproducible` (Kaniko) puts file times at the epoch and `created` at
 * 1970-01-01 unless SOURCE_DATE_EPOCH names a time; SOURCE_DATE_EPOCH alone sets `created`
 * and clamps newer file times to it. Base layers are never rewritten.
 */
export function layerTimes(
  o: Pick<LayerOptions, 'reproducible'>,
  env: Record<string, string | undefined>,
  now: Date,
): { created: string; clampMtime?: Date } {
  const epoch = sourceDateEpoch(env);
  // RFC 3339 as Go (Docker, Kaniko) writes it: no fraction when it is zero.
  const created = (epoch ?? (o.reproducible ? new Date(0) : now)).toISOString().replace('.000Z', 'Z');
  const clampMtime = o.reproducible ? new Date(0) : epoch;
  return clampMtime ? { created, clampMtime } : { created };
}
