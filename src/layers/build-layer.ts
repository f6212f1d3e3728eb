/**
 * Turns changes into a stored layer in one pass over the bytes (ARCHITECTURE.md §5): pack → sha256 of
 * the tar (diffId) → gzip or zstd → blob store (digest and size of the compressed blob).
 */
import { pipeline, type Duplex, type Writable } from 'node:stream';
import { availableParallelism } from 'node:os';
import type { BlobStore } from '../cache/blob-store.js';
import { UsageError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import type { Digest } from '../oci/digest.js';
import type { Layer, LayerOrigin } from '../oci/image.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { Change } from '../rootfs/change.js';
import { HashTap } from '../stream/hash.js';
import { parallelGzip } from '../stream/parallel-gzip.js';
import { SideCopy } from '../stream/side-copy.js';
import { packChanges, type PackOptions } from './pack.js';
import type { ZstdCodec } from './tools.js';

/** gzip level when none is given: zlib's default trade-off, fixed so that digests are stable. */
export const DEFAULT_GZIP_LEVEL = 6;
/** zstd level when none is given: the zstd program's default. */
export const DEFAULT_ZSTD_LEVEL = 3;

/**
 * gzip members in flight: one per core and one more, so a core never waits for the main thread to
 * hand it the next block. bin/executor sizes libuv's pool so that file reads and writes still
 * have threads of their own.
 */
export const GZIP_CONCURRENCY = Math.min(8, availableParallelism() + 1);

/**
 * A new layer streams to the registry while it is made only once this much of it exists: below
 * that, opening an upload costs more round trips than sending the finished blob after the build.
 */
const STREAM_UPLOAD_AFTER = 4 << 20;

/** `--compression`. */
export type LayerCompression = 'gzip' | 'zstd';

/**
 * A second destination for a new layer's compressed bytes while they are made: a streaming upload
 * to the image's first destination (executor/eager-upload.ts), so that pushing overlaps
 * compression instead of following it.
 */
export interface LayerUpload {
  /** Receives the compressed bytes as they are made. */
  readonly input: Writable;
  /**
   * Commits the upload as `blob`, or gives it up when `blob` is undefined or `failure` is set.
   * Never rejects: resolves with where the blob now is, or undefined (it is then pushed as usual).
   */
  settle(blob: { digest: Digest; size: number } | undefined, failure?: Error): Promise<LayerOrigin | undefined>;
}

/** Options of {@link buildLayer}. */
export interface BuildLayerOptions extends PackOptions {
  /** Default gzip. */
  compression?: LayerCompression;
  /** `--compression-level`: gzip 0–9 (default {@link DEFAULT_GZIP_LEVEL}), zstd 1–22 (default {@link DEFAULT_ZSTD_LEVEL}). */
  compressionLevel?: number;
  /** Needed for zstd. */
  zstd?: ZstdCodec;
  /** Starts a {@link LayerUpload} for the layer, if there is to be one. */
  upload?: () => Promise<LayerUpload | undefined>;
  /** Make a layer of no changes too (an empty tar): Kaniko's `--force-build-metadata`. */
  allowEmpty?: boolean;
}

/** A compressor and the media type of what it produces. */
function compressor(opts: BuildLayerOptions): { stream: Duplex; mediaType: string } {
  if (opts.compression === 'zstd') {
    if (!opts.zstd)
      throw new UsageError('--compression=zstd needs the zstd program (Debian package zstd), which was not found');
    return {
      stream: opts.zstd.compress(opts.compressionLevel ?? DEFAULT_ZSTD_LEVEL, opts.signal),
      mediaType: MediaType.ociLayerZstd,
    };
  }
  // Node's gzip header has no name and mtime 0, and the members are cut at fixed offsets, so the
  // output depends only on the bytes and the level.
  return {
    stream: parallelGzip(opts.compressionLevel ?? DEFAULT_GZIP_LEVEL, GZIP_CONCURRENCY),
    mediaType: MediaType.ociLayerGzip,
  };
}

/**
 * Packs → HashTap (diffId) → gzip or zstd → BlobStore.ingest, in ONE pipeline pass. Returns
 * undefined when `changes` is empty. open() reads from the store.
 */
export async function buildLayer(
  rootfs: Rootfs,
  changes: Change[],
  store: BlobStore,
  opts: BuildLayerOptions,
): Promise<Layer | undefined> {
  if (changes.length === 0 && opts.allowEmpty !== true) return undefined;
  const tap = new HashTap();
  const { stream, mediaType } = compressor(opts);
  let upload: LayerUpload | undefined;
  const startUpload = opts.upload;
  const side = startUpload
    ? new SideCopy(async () => {
        upload = await startUpload();
        return upload?.input;
      }, STREAM_UPLOAD_AFTER)
    : undefined;
  // A failure anywhere in the chain destroys its last stream with that error, so ingest rejects with it.
  const last = side ?? stream;
  pipeline([packChanges(rootfs, changes, opts), tap, stream, ...(side ? [side] : [])], () => {});
  let blob: { digest: Digest; size: number };
  try {
    blob = await store.ingest(last, undefined, 'new layer', opts.signal);
  } catch (err) {
    await upload?.settle(undefined, err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  const origin = await upload?.settle(blob, side?.failure());
  const diffId = tap.result().digest;
  return {
    descriptor: { mediaType, digest: blob.digest, size: blob.size },
    diffId,
    ...(origin ? { origin } : {}),
    open: (signal?: AbortSignal) => Promise.resolve(store.open(blob.digest, signal)),
  };
}
