/**
 * Layer extraction: decompress (sniffed: gzip, zstd or none), read the tar with
 * {@link TarReader} and apply its entries to the rootfs through {@link LayerWriter}.
 */
import type { Readable } from 'node:stream';
import { BuildError, IntegrityError } from '../errors.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { decompressed } from '../stream/compression.js';
import { LayerWriter, type LayerWriterOptions } from './layer-writer.js';
import { TarFormatError, TarReader } from './tar-read.js';
import type { ZstdCodec } from './tools.js';

export type { SpecialFileMaker, SpecialKind } from './tools.js';

/** Options of {@link extractLayer}: names the layer in errors ("sha256:… of 127.0.0.1:5000/base/busybox"), and the host helpers. */
export interface ExtractOptions extends LayerWriterOptions {
  /** Decompresses zstd layers where Node's zlib cannot. */
  zstd?: ZstdCodec;
}

/**
 * Decompresses (sniffed) and untars a layer into the rootfs: whiteouts `.wh.NAME` delete NAME
 * from lower layers, `.wh..wh..opq` empties the directory of lower-layer content; regular
 * files, dirs, symlinks, hardlinks (target resolved inside the rootfs), fifos and devices (via
 * `opts.mknod`, else skipped with a warning); ownership, mode incl. setuid/setgid/sticky,
 * mtimes (directories last), extended attributes (`opts.xattrs`). Every entry path goes through
 * the rootfs resolver in strict mode: names or link targets that need to leave the root, and
 * absolute names, throw IntegrityError naming `layerName` and the entry. A corrupt stream (bad
 * gzip, truncated tar, bad header) is an IntegrityError too. In an in-place build `opts.ignore`
 * names the paths kept as they are: entries there are skipped (debug log), whiteouts spare them.
 */
export async function extractLayer(rootfs: Rootfs, compressed: Readable, opts: ExtractOptions): Promise<void> {
  const zstd = opts.zstd;
  const plain = await decompressed(compressed, zstd ? { zstd: () => zstd.decompress(opts.signal) } : {});
  const reader = new TarReader(plain);
  const writer = new LayerWriter(rootfs, opts);
  try {
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      opts.signal?.throwIfAborted();
      await writer.apply(entry, reader.body());
    }
    await writer.finish();
  } catch (err) {
    plain.destroy();
    throw asLayerError(err, opts.layerName);
  }
}

/** Our own errors and aborts pass; anything else came from decompression or the tar reader: the layer is corrupt. */
function asLayerError(err: unknown, layerName: string): unknown {
  if (err instanceof BuildError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const why = err instanceof Error ? err.message : String(err);
  const what = err instanceof TarFormatError ? 'a valid tar' : 'a valid (compressed) tar';
  return new IntegrityError(`layer ${layerName} is not ${what}: ${why}`, { cause: err });
}
