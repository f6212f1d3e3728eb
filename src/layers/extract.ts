/**
 * Layer extraction: decompress (sniffed), untar, apply entries to the rootfs through
 * {@link LayerWriter}. Together with pack.ts the only importer of tar-stream (DESIGN.md §2).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BuildError, IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { decompressed } from '../stream/compression.js';
import { LayerWriter, type SpecialFileMaker } from './layer-writer.js';
import type { TarHeader } from './tar-header.js';

export type { SpecialFileMaker, SpecialKind } from './layer-writer.js';

/** Options of {@link extractLayer}. */
export interface ExtractOptions {
  /** Names the layer in errors, e.g. "sha256:… of 127.0.0.1:5000/base/busybox". */
  layerName: string;
  logger: Logger;
  signal?: AbortSignal;
  /** Creates fifos and device nodes; without it they are skipped with a warning. */
  mknod?: SpecialFileMaker;
}

/**
 * Decompresses (sniffed) and untars a layer into the rootfs: whiteouts `.wh.NAME` delete NAME
 * from lower layers, `.wh..wh..opq` empties the directory of lower-layer content; regular
 * files, dirs, symlinks, hardlinks (target resolved inside the rootfs), fifos and devices (via
 * `opts.mknod`, else skipped with a warning); ownership, mode incl. setuid/setgid/sticky, mtimes
 * (directories last). Every entry path goes through Rootfs.resolve; names or hardlink targets
 * escaping the root throw IntegrityError naming `layerName` and the entry. A corrupt stream
 * (bad gzip, truncated tar) is an IntegrityError too.
 */
export async function extractLayer(rootfs: Rootfs, compressed: Readable, opts: ExtractOptions): Promise<void> {
  const plain = await decompressed(compressed);
  const untar = tar.extract();
  // Settles to the feeding error (or undefined) so that it is never an unhandled rejection
  // while the loop below is still busy with an entry.
  const feeding = pipeline(plain, untar, opts.signal ? { signal: opts.signal } : {}).then(
    () => undefined,
    (err: unknown) => err,
  );
  const writer = new LayerWriter(rootfs, opts);
  try {
    for await (const entry of untar) {
      opts.signal?.throwIfAborted();
      await writer.apply(entry.header as TarHeader, entry);
      // Bodies of skipped entries (whiteouts with content, unsupported types) must be read
      // for the next header to arrive.
      for await (const _chunk of entry) void _chunk;
    }
    const err = await feeding;
    if (err !== undefined) throw err;
  } catch (err) {
    plain.destroy();
    untar.destroy();
    const fed = await feeding;
    // Our own errors (unsafe entry, disk full) stand; otherwise the feeding side (gunzip, the
    // tar parser) says best what broke, e.g. "Unexpected end of data" rather than "Stream was destroyed".
    throw asLayerError(err instanceof BuildError ? err : (fed ?? err), opts.layerName);
  }
  await writer.finish();
}

/** Our own errors and aborts pass; anything else came from gunzip or the tar parser: the layer is corrupt. */
function asLayerError(err: unknown, layerName: string): unknown {
  if (err instanceof BuildError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const why = err instanceof Error ? err.message : String(err);
  return new IntegrityError(`layer ${layerName} is not a valid (compressed) tar: ${why}`, { cause: err });
}
