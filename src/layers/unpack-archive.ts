/**
 * ADD's archive extraction: an uncompressed tar stream (decompression is the caller's, see
 * unpack-archive-sniff.ts) unpacked into a directory of the rootfs. Not a layer: no whiteouts,
 * and everything stays inside the destination directory (ArchiveWriter).
 */
import type { Readable } from 'node:stream';
import { BuildError, IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { TarFormatError } from './tar-entry.js';
import { TarReader } from './tar-read.js';
import { ArchiveWriter } from './unpack-archive-writer.js';

/** Options of {@link unpackArchive}. */
export interface UnpackOptions {
  /** Names the archive in errors, e.g. the ADD source. */
  archiveName: string;
  /** What messages start with; default `ADD <archiveName>`. */
  subject?: string;
  /**
   * Refuse, rather than clamp inside the destination, an absolute entry name and an entry or
   * hardlink reached through a symlink that leads out of it (absolute or climbing target): a
   * build context's archive (issue 14), extracted onto the host and not into an image root.
   */
  confined?: boolean;
  /** Told of each entry once it is written (a build context's Dockerfile lets the build go on). */
  onEntry?: (path: string, isFile: boolean) => void;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Unpacks the tar bytes of `tarStream` into `destDir`, an existing directory of `rootfs` (image
 * path). Returns the image paths written, in archive order, parents made for entries included.
 * The tar is read as Go's archive/tar reads it (TarReader); a corrupt one is an IntegrityError,
 * and so is an entry reaching outside the destination.
 */
export async function unpackArchive(
  rootfs: Rootfs,
  destDir: string,
  tarStream: Readable,
  opts: UnpackOptions,
): Promise<string[]> {
  const destHost = await rootfs.resolve(destDir, { followFinal: true });
  const writer = new ArchiveWriter(new Rootfs(destHost), opts);
  const reader = new TarReader(tarStream);
  try {
    for (let entry = await reader.next(); entry !== undefined; entry = await reader.next()) {
      opts.signal?.throwIfAborted();
      await writer.apply(entry, reader.body());
    }
  } catch (err) {
    // What the archive's bytes caused is an integrity error: a malformed tar, or the stream
    // feeding it failing (corrupt compression, a decompressor refusing its input; the stream was
    // destroyed with that error). Anything else is a bug and keeps its class.
    const fromArchive = err instanceof TarFormatError || (err !== null && err === tarStream.errored);
    tarStream.destroy();
    if (err instanceof BuildError || (err instanceof Error && err.name === 'AbortError') || !fromArchive) throw err;
    // A non-Error the stream failed with is shown as it is.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    const why = err instanceof Error ? err.message : String(err);
    throw new IntegrityError(
      `${opts.subject ?? `ADD ${opts.archiveName}`}: not a valid (compressed) tar archive: ${why}`,
      { cause: err },
    );
  }
  await writer.finish();
  return writer.written.map((host) => rootfs.imagePathOf(host));
}
