/**
 * Is this file a tar archive ADD must unpack? Decided from the bytes, as BuildKit does
 * (`isArchivePath`: the compression is detected from the magic number — gzip, bzip2, xz, zstd or
 * none — and the decompressed stream must start with a valid tar header), never from the name.
 */
import { Readable } from 'node:stream';

/** Compressions an ADD archive may use. */
export type ArchiveCompression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

const MAGIC: [ArchiveCompression, number[]][] = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['bzip2', [0x42, 0x5a, 0x68]], // "BZh"
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/** Bytes {@link sniffArchiveCompression} needs. */
export const MAGIC_BYTES = 6;

/** The compression `head` (a file's first bytes) announces (moby pkg/archive DetectCompression). */
export function sniffArchiveCompression(head: Uint8Array): ArchiveCompression {
  for (const [kind, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return kind;
  return 'none';
}

/** Size of a tar header block. */
export const TAR_BLOCK = 512;

function octal(block: Uint8Array, start: number, length: number): number | undefined {
  const text = Buffer.from(block.subarray(start, start + length))
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

/**
 * Whether `block` is a tar header Go's archive/tar accepts as a first entry: a full block, not
 * all zeros (an empty archive is not unpacked), with a checksum that matches (the unsigned sum
 * of the block with the checksum field read as spaces; old tars used signed bytes).
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK) return false;
  const stored = octal(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/**
 * Reads the first `n` bytes of `source` (fewer if it is shorter) and returns them with a stream
 * of ALL the bytes (head included), so nothing is read twice or held beyond the head.
 */
export async function peekBytes(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await it.next();
    if (next.done === true) {
      done = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    if (done) return;
    for (let next = await it.next(); next.done !== true; next = await it.next()) {
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  const stream = Readable.from(all(), { objectMode: false });
  // Destroying the result (e.g. "not an archive after all") must release the source too.
  stream.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return { head: head.subarray(0, Math.max(0, Math.min(n, head.length))), stream };
}
