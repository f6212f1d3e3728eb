/**
 * Layer extraction: decompress (sniffed: gzip, zstd or none), hash the uncompressed tar against
 * the layer's diff_id, read it with {@link TarReader} and apply its entries to the rootfs through
 * {@link LayerWriter} — one streaming pass. Every error leaves through {@link asLayerError},
 * which decides whether the layer (exit 5) or the host (exit 7) is to blame.
 */
import { pipeline, type Readable } from 'node:stream';
import { BuildError, errnoCode, FilesystemError, IntegrityError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { decompressed } from '../stream/compression.js';
import { HashTap } from '../stream/hash.js';
import { LayerWriter, type LayerWriterOptions } from './layer-writer.js';
import { TarFormatError, TarReader } from './tar-read.js';
import type { ZstdCodec } from './tools.js';

export type { SpecialFileMaker, SpecialKind } from './tools.js';

/** Options of {@link extractLayer}: names the layer in errors ("sha256:… of 127.0.0.1:5000/base/busybox"), and the host helpers. */
export interface ExtractOptions extends LayerWriterOptions {
  /** Decompresses zstd layers where Node's zlib cannot. */
  zstd?: ZstdCodec;
  /**
   * The image config's `rootfs.diff_ids` entry for this layer: the sha256 of the uncompressed
   * tar, checked once its last byte was read (OCI image spec config.md "rootfs"; DESIGN.md §5:
   * base layers are verified twice). Base images always give it (executor/base.ts).
   */
  diffId?: Digest;
}

/**
 * Decompresses (sniffed) and untars a layer into the rootfs: whiteouts `.wh.NAME` delete NAME
 * from lower layers, `.wh..wh..opq` empties the directory of lower-layer content; regular
 * files, dirs, symlinks, hardlinks (target resolved inside the root), fifos and devices (via
 * `opts.mknod`, else skipped with a warning); ownership, mode incl. setuid/setgid/sticky,
 * mtimes (directories last), extended attributes (`opts.xattrs`). Every entry path goes through
 * the rootfs resolver in strict mode: names or link targets that need to leave the root, and
 * absolute names, throw IntegrityError naming `layerName` and the entry. A corrupt stream (bad
 * gzip, truncated tar, bad header), an uncompressed tar whose sha256 is not `opts.diffId`, and
 * an entry the kernel refuses for what it is (a name too long, an mtime out of range, a link
 * to nothing) are IntegrityErrors too; only the host's own failures (disk full, read-only, no
 * permission) are FilesystemErrors. In an in-place build `opts.ignore` names the paths kept as
 * they are: entries there are skipped (debug log), whiteouts spare them.
 */
export async function extractLayer(rootfs: Rootfs, compressed: Readable, opts: ExtractOptions): Promise<void> {
  const zstd = opts.zstd;
  let plain: Readable | undefined;
  try {
    plain = await decompressed(compressed, zstd ? { zstd: () => zstd.decompress(opts.signal) } : {});
    // The tap sees every uncompressed byte: the tar reader reads its input to the end, trailing
    // zero blocks and padding included, so the digest is of the whole tar.
    const tap = new HashTap();
    const tar = pipeline(plain, tap, () => {});
    const reader = new TarReader(tar);
    const writer = new LayerWriter(rootfs, opts);
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      opts.signal?.throwIfAborted();
      await writer.apply(entry, reader.body());
    }
    if (opts.diffId !== undefined) checkDiffId(opts.layerName, opts.diffId, tap.result().digest);
    await writer.finish();
  } catch (err) {
    plain?.destroy();
    compressed.destroy();
    throw asLayerError(err, opts.layerName);
  }
}

function checkDiffId(layerName: string, expected: Digest, actual: Digest): void {
  if (actual === expected) return;
  throw new IntegrityError(
    `${layerName}: diff_id mismatch: the image config says ${expected}, the uncompressed layer is ${actual}`,
    {
      hint: 'the image config does not describe this layer: the image is corrupt or was tampered with',
    },
  );
}

/**
 * errno codes an entry provokes by what it is, on a filesystem that is otherwise fine: a name
 * component over 255 bytes (ENAMETOOLONG), an mtime the kernel cannot store (EINVAL), a link to
 * a name the layer never made (ENOENT), a path through a non-directory (ENOTDIR), too many
 * links to one file (EMLINK), an xattr the filesystem will not take (E2BIG, ERANGE)… The rootfs
 * is Kiln's own directory and only the layer's entries change it while it is extracted. Every
 * other code (ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EIO, EMFILE…) is the host's problem.
 */
export const ENTRY_ERRNOS: ReadonlySet<string> = new Set([
  'ENAMETOOLONG',
  'EINVAL',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'ELOOP',
  'EMLINK',
  'ENOTEMPTY',
  'E2BIG',
  'ERANGE',
]);

/** The OS error under `err` (a FilesystemError's cause, or `err` itself), when it is one. */
function systemCause(err: unknown): { code: string; syscall: string } | undefined {
  const cause = err instanceof FilesystemError ? err.cause : err;
  const code = errnoCode(cause);
  if (code === undefined || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  const syscall =
    typeof cause === 'object' && cause !== null && 'syscall' in cause && typeof cause.syscall === 'string'
      ? cause.syscall
      : '';
  return { code, syscall };
}

/**
 * The one place extraction decides who is to blame for a failure (issue 11, finding 11): an OS
 * error an entry caused by its content is the layer's (IntegrityError, exit 5), other OS errors
 * are the host's (FilesystemError, exit 7); errors of decompression or the tar reader mean a
 * corrupt layer (exit 5); other BuildErrors and aborts pass as they are. A program that could
 * not be started (spawn ENOENT of a host tool) is never the layer's fault.
 */
function asLayerError(err: unknown, layerName: string): unknown {
  if (err instanceof Error && err.name === 'AbortError') return err;
  const named = (msg: string): string =>
    msg.startsWith(`layer ${layerName}`) || msg.startsWith(layerName) ? msg : `layer ${layerName}: ${msg}`;
  const sys = systemCause(err);
  if (sys && (err instanceof FilesystemError || !(err instanceof BuildError))) {
    const message = err instanceof Error ? err.message : String(err);
    if (ENTRY_ERRNOS.has(sys.code) && !sys.syscall.startsWith('spawn')) {
      return new IntegrityError(named(message), {
        cause: err,
        hint: 'the filesystem refuses a tar entry of this layer as it is: the image is broken or hostile',
      });
    }
    return err instanceof FilesystemError ? err : new FilesystemError(named(message), { cause: err });
  }
  if (err instanceof BuildError) return err;
  const why = err instanceof Error ? err.message : String(err);
  const what = err instanceof TarFormatError ? 'a valid tar' : 'a valid (compressed) tar';
  return new IntegrityError(`layer ${layerName} is not ${what}: ${why}`, { cause: err });
}
