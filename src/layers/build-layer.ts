/**
 * Turns changes into a stored layer in one pass over the bytes (DESIGN.md §4): pack → sha256 of
 * the tar (diffId) → gzip → blob store (digest and size of the compressed blob).
 */
import { pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { BlobStore } from '../cache/blob-store.js';
import { MediaType } from '../oci/media-types.js';
import type { Layer } from '../oci/image.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { Change } from '../snapshot/diff.js';
import { HashTap } from '../stream/hash.js';
import { packChanges } from './pack.js';

/** gzip level when none is given: zlib's default trade-off, fixed so that digests are stable. */
export const DEFAULT_GZIP_LEVEL = 6;

/** Options of {@link buildLayer}. */
export interface BuildLayerOptions {
  clampMtime?: Date;
  /** 0–9 (`--compression-level`); default {@link DEFAULT_GZIP_LEVEL}. */
  compressionLevel?: number;
  signal?: AbortSignal;
}

/**
 * Packs → HashTap (diffId) → gzip (zlib, fixed level 6 by default, so output is deterministic:
 * Node's gzip header has no name and mtime 0) → BlobStore.ingest, in ONE pipeline pass. Returns
 * undefined when `changes` is empty. The Layer's descriptor has mediaType
 * MediaType.ociLayerGzip, and open() reads from the store.
 */
export async function buildLayer(rootfs: Rootfs, changes: Change[], store: BlobStore, opts: BuildLayerOptions): Promise<Layer | undefined> {
  if (changes.length === 0) return undefined;
  const tap = new HashTap();
  const gzip = createGzip({ level: opts.compressionLevel ?? DEFAULT_GZIP_LEVEL });
  // The callback form returns `gzip`; a failure anywhere in the first half destroys `gzip` with
  // that error, so ingest's pipeline rejects with it.
  const gzipped = pipeline(packChanges(rootfs, changes, opts), tap, gzip, () => {});
  const blob = await store.ingest(gzipped, undefined, 'new layer', opts.signal);
  const diffId = tap.result().digest;
  return {
    descriptor: { mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size },
    diffId,
    open: (signal?: AbortSignal) => Promise.resolve(store.open(blob.digest, signal)),
  };
}
