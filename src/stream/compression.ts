/**
 * Layer compression is sniffed from the bytes, not trusted from the media type: registries and
 * tools mislabel layers (Docker's `tar.gzip` type on uncompressed tars, OCI `+zstd` under
 * `tar.gzip`), and Docker itself sniffs (moby pkg/archive DetectCompression).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { IntegrityError } from '../errors.js';

/** The compression a stream's first bytes announce. */
export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/** Which compression `head` (the first bytes of a blob) starts with. */
export function sniffCompression(head: Uint8Array): Compression {
  if (GZIP_MAGIC.every((b, i) => head[i] === b)) return 'gzip';
  if (ZSTD_MAGIC.every((b, i) => head[i] === b)) return 'zstd';
  return 'none';
}

/**
 * Peeks at the first `n` bytes (fewer if the source is shorter) without consuming them: they
 * are unshifted back synchronously, before a pending 'end' (scheduled with nextTick once the
 * last chunk is read) can fire. Resolves `ended` when the source finished within those bytes.
 */
function readHead(source: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    // A stream that already failed or finished emits nothing more: answer from its state.
    if (source.destroyed) {
      reject(source.errored ?? new Error('source stream was destroyed before it was read'));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
    };
    const onReadable = (): void => {
      let chunk: unknown;
      while (length < n && (chunk = source.read()) !== null) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        chunks.push(buf);
        length += buf.length;
      }
      if (length >= n) {
        cleanup();
        const head = Buffer.concat(chunks);
        source.unshift(head);
        resolve({ head, ended: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    source.on('readable', onReadable);
    source.on('end', onEnd);
    source.on('error', onError);
  });
}

/** Node 22.15+ has zstd in zlib; Node 20 does not. Looked up at run time so both compile. */
function zlibZstdDecompressor(): NodeJS.ReadWriteStream | undefined {
  const factory: unknown = (zlib as unknown as Record<string, unknown>)['createZstdDecompress'];
  return typeof factory === 'function' ? (factory as () => NodeJS.ReadWriteStream)() : undefined;
}

/** Decompressors Node lacks, supplied by the caller (the executor passes `exec/`'s zstd). */
export interface DecompressOptions {
  /** A zstd decompressor, used when Node's zlib has none. */
  zstd?: () => NodeJS.ReadWriteStream;
}

/** zlib's output chunk size: 64 KiB chunks instead of 16 KiB mean a quarter of the callbacks downstream. */
const INFLATE_CHUNK = 64 * 1024;
/** How far decompression may run ahead of the consumer, so that it overlaps with writing files. */
const INFLATE_AHEAD = 1024 * 1024;

/**
 * Sniffs the first bytes (gzip 1f8b, zstd 28b52ffd, else plain) and returns a Readable of the
 * decompressed bytes. Errors of `source` surface on the returned stream; destroying the returned
 * stream destroys `source`.
 */
export async function decompressed(source: Readable, opts: DecompressOptions = {}): Promise<Readable> {
  const { head, ended } = await readHead(source, ZSTD_MAGIC.length);
  const kind = sniffCompression(head);
  // Once 'end' was emitted a stream cannot take bytes back; a blob this short is just bytes.
  const rest = ended ? Readable.from([head], { objectMode: false }) : source;
  if (kind === 'none') return rest;
  let inflate: NodeJS.ReadWriteStream;
  if (kind === 'gzip') {
    // Stream options pass through zlib's options to its Transform (node lib/zlib.js ZlibBase).
    inflate = zlib.createGunzip(Object.assign({ chunkSize: INFLATE_CHUNK }, { readableHighWaterMark: INFLATE_AHEAD }));
  } else {
    const zstd = zlibZstdDecompressor() ?? opts.zstd?.();
    if (!zstd) {
      rest.destroy();
      throw new IntegrityError(
        'a zstd-compressed layer, but this Node has no zstd and the zstd program was not found (Debian package zstd)',
      );
    }
    inflate = zstd;
  }
  // The callback form of pipeline returns the last stream and destroys every stream on error,
  // so a broken source or bad gzip data errors the stream the caller reads.
  return pipeline(rest, inflate, () => {}) as unknown as Readable;
}
