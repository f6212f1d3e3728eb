/**
 * Unpacks a fetched context archive into the context directory (issue 14). A thin stand-in for
 * the tar contexts' `unpackContext` (executor/context-tar.ts, written in parallel), with its
 * signature, so that the bucket fetchers switch to it by their import alone: compression sniffed
 * from the first bytes as ADD does (gzip in process, bzip2/xz/zstd by the system's programs), the
 * tar unpacked by ADD's archive code (layers/unpack-archive.ts), so that a corrupt archive or an
 * entry leaving the directory is an IntegrityError (exit 5).
 */
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BuildError, IntegrityError } from '../errors.js';
import { externalDecompressor } from '../exec/decompress.js';
import { MAGIC_BYTES, peekBytes, sniffArchiveCompression } from '../layers/unpack-archive-sniff.js';
import { unpackArchive } from '../layers/unpack-archive.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { BuildEnv } from './build-env.js';

/** Unpacks the (plain or compressed) tar `bytes` into `into`, the empty context directory named `display`. */
export async function unpackContext(bytes: Readable, into: string, env: BuildEnv, display: string): Promise<void> {
  let tar: Readable;
  try {
    const { head, stream } = await peekBytes(bytes, MAGIC_BYTES);
    const kind = sniffArchiveCompression(head);
    tar =
      kind === 'none'
        ? stream
        : pipeline(
            stream,
            kind === 'gzip' ? createGunzip() : externalDecompressor(kind, env.env, env.signal),
            () => undefined,
          );
  } catch (err) {
    bytes.destroy();
    if (err instanceof BuildError || env.signal.aborted) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new IntegrityError(`context ${display}: not a valid (compressed) tar archive: ${why}`, { cause: err });
  }
  try {
    await unpackArchive(new Rootfs(into), '/', tar, { archiveName: display, logger: env.logger, signal: env.signal });
  } catch (err) {
    // ADD's archive code names its source `ADD …`; here it is the context.
    if (err instanceof IntegrityError && err.message.startsWith(`ADD ${display}: `))
      throw new IntegrityError(`context ${display}: ${err.message.slice(`ADD ${display}: `.length)}`, { cause: err });
    throw err;
  }
}
