/**
 * ADD's local archives (Dockerfile reference, "ADD" → "Adding local tar archives"): a source that
 * is a tar — plain or compressed with gzip, bzip2, xz (or zstd, as BuildKit also detects) — is
 * unpacked into `<dest>` as a directory, like `tar -x`; "whether a file is identified as a
 * recognized compression format or not is done solely based on the contents of the file, not
 * the name of the file". One pass: the bytes are sniffed as they stream, and a file that turns
 * out not to be a tar is copied as a file instead. Entries keep the owners and modes of the
 * archive (`--chown`/`--chmod` do not apply to them, as in BuildKit, whose Untar gets no
 * chowner); only the destination directory made here gets the `--chown` owner.
 */
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StepError } from '../errors.js';
import { DecompressorFailed, externalDecompressor } from '../exec/decompress.js';
import type { Logger } from '../log.js';
import {
  isTarHeader,
  MAGIC_BYTES,
  peekBytes,
  sniffArchiveCompression,
  TAR_BLOCK,
} from '../layers/unpack-archive-sniff.js';
import { unpackArchive } from '../layers/unpack-archive.js';
import { mkdirAll, type Owner } from '../rootfs/mkdir.js';
import type { Rootfs } from '../rootfs/rootfs.js';

/** What archive handling needs from the build. */
export interface ArchiveIO {
  logger: Logger;
  signal: AbortSignal;
  /** The build's environment, for the PATH of bzip2/xz/zstd. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * A stream of `source`'s bytes decompressed according to its first bytes (gzip, bzip2, xz, zstd
 * or none), as it streams: ADD's archives and the build context's tarballs (issue 14).
 */
export async function decompressedStream(source: Readable, io: ArchiveIO): Promise<Readable> {
  const { head, stream } = await peekBytes(source, MAGIC_BYTES);
  const kind = sniffArchiveCompression(head);
  if (kind === 'none') return stream;
  const codec = kind === 'gzip' ? createGunzip() : externalDecompressor(kind, io.env, io.signal);
  // The callback form returns the last stream and destroys all of them on an error, so a
  // failure anywhere surfaces on the stream the caller reads.
  return pipeline(stream, codec, () => undefined);
}

/**
 * The tar bytes of the file at `hostPath` when it is a (compressed) tar archive, else undefined
 * (not a tar, an empty tar, or bytes no decompressor accepts: BuildKit's `isArchivePath` says
 * "not an archive" for all of these, and the file is copied as it is).
 */
export async function openArchive(hostPath: string, io: ArchiveIO): Promise<Readable | undefined> {
  let tarBytes: Readable | undefined;
  try {
    tarBytes = await decompressedStream(createReadStream(hostPath), io);
    const { head, stream } = await peekBytes(tarBytes, TAR_BLOCK);
    if (isTarHeader(head)) return stream;
    stream.destroy();
  } catch (err) {
    tarBytes?.destroy();
    if (io.signal.aborted) throw err;
    // A missing decompressor must not turn an archive silently into a copied file.
    if (err instanceof DecompressorFailed && err.missingProgram)
      throw new StepError(`ADD ${hostPath}: ${err.message}`, undefined, { cause: err });
    io.logger.debug(`${hostPath} is not an archive ADD can unpack, copying it as a file`, {
      reason: err instanceof Error ? err.message : String(err),
    });
  }
  return undefined;
}

/** Where {@link unpackInto} unpacks an archive, and how it names it. */
export interface UnpackIntoOptions {
  /** The image path of the directory to unpack into. */
  destDir: string;
  /** The owner of `destDir` when it has to be made. */
  owner: Owner;
  /** The archive's name in messages. */
  name: string;
  io: ArchiveIO;
}

/**
 * Unpacks tar bytes into the directory `opts.destDir` (made with parents, 0755, owned by
 * `opts.owner`, when missing). Returns the image paths written, the destination included.
 */
export async function unpackInto(rootfs: Rootfs, tarBytes: Readable, opts: UnpackIntoOptions): Promise<string[]> {
  const { destDir, owner, name, io } = opts;
  const made = await mkdirAll(rootfs, destDir, owner);
  const entries = await unpackArchive(rootfs, destDir, tarBytes, {
    archiveName: name,
    logger: io.logger,
    signal: io.signal,
  });
  return [...made, destDir, ...entries];
}
