/**
 * A streaming tar reader for layers: POSIX.1-2001 pax, ustar, GNU (long names, base-256
 * numbers) and v7 headers, read the way Go's archive/tar reads them (which is what Docker and
 * containerd apply layers with). Written for Kiln rather than taken from tar-stream because
 * tar-stream decodes pax values as UTF-8, which corrupts binary xattrs such as
 * `SCHILY.xattr.security.capability` (bytes ≥ 0x80 for e.g. cap_setuid), and because one pull
 * loop over the decompressed chunks is much cheaper than a stream per entry.
 */
import { nameFromBytes } from '../oci/file-names.js';
import { headerOnly, parseHeaderBlock, type RawHeader } from './tar-block.js';
import { TarFormatError, type TarEntry } from './tar-entry.js';
import { applyPax, isSparse, parsePaxRecords, type PaxRecords } from './tar-pax.js';

export { TarFormatError, type TarEntry, type TarEntryType } from './tar-entry.js';

/** Size of a tar block (POSIX ustar). */
export const BLOCK = 512;

/**
 * The largest pax header or GNU long name accepted: Go's archive/tar `maxSpecialFileSize`
 * (1 MiB). A bigger one is a hostile or broken layer, never buffered.
 */
export const MAX_META_SIZE = 1 << 20;

const EMPTY = Buffer.alloc(0);

/** Pulls bytes from an async iterable of chunks, handing out slices without copying where it can. */
class ByteSource {
  private buf: Buffer = EMPTY;
  private off = 0;
  private ended = false;

  constructor(private readonly it: AsyncIterator<unknown>) {}

  /** Makes unread bytes available; false at the end of the input. */
  private async fill(): Promise<boolean> {
    while (this.off >= this.buf.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const v: unknown = r.value;
      if (!(v instanceof Uint8Array)) throw new TarFormatError('the layer stream produced a non-binary chunk');
      this.buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.off = 0;
    }
    return true;
  }

  /** Exactly `n` bytes, or undefined when the input ends before the first of them. */
  async exact(n: number, what: string): Promise<Buffer | undefined> {
    if (!(await this.fill())) return undefined;
    if (this.buf.length - this.off >= n) {
      const out = this.buf.subarray(this.off, this.off + n);
      this.off += n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) throw new TarFormatError(`unexpected end of data in ${what}`);
      const take = Math.min(n - got, this.buf.length - this.off);
      this.buf.copy(out, got, this.off, this.off + take);
      this.off += take;
      got += take;
    }
    return out;
  }

  /** The next slice of at most `max` bytes; throws at the end of the input. */
  async some(max: number, what: string): Promise<Buffer> {
    if (!(await this.fill())) throw new TarFormatError(`unexpected end of data in ${what}`);
    const take = Math.min(max, this.buf.length - this.off);
    const out = this.buf.subarray(this.off, this.off + take);
    this.off += take;
    return out;
  }

  async skip(n: number, what: string): Promise<void> {
    while (n > 0) n -= (await this.some(n, what)).length;
  }

  /** Reads and drops everything left (trailing zero blocks, padding some writers add). */
  async drain(): Promise<void> {
    while (await this.fill()) this.off = this.buf.length;
  }
}

/**
 * Reads entries one at a time: `next()` returns the next entry (skipping whatever the caller
 * did not read of the previous one's data), `body()` yields the current entry's data. Ends at
 * the first zero block or at the end of the input, after reading the input to its end.
 */
export class TarReader {
  private readonly src: ByteSource;
  /** Data bytes of the current entry not read yet, and the padding after them. */
  private remaining = 0;
  private padding = 0;
  private current = '';
  private done = false;

  constructor(source: AsyncIterable<unknown>) {
    this.src = new ByteSource(source[Symbol.asyncIterator]());
  }

  async next(): Promise<TarEntry | undefined> {
    if (this.done) return undefined;
    await this.src.skip(this.remaining + this.padding, `the data of ${this.current}`);
    this.remaining = 0;
    this.padding = 0;
    let pax: PaxRecords | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const block = await this.src.exact(BLOCK, 'a tar header');
      if (block === undefined || block.every((b) => b === 0)) {
        // End of archive (two zero blocks, or just the end of the input, as Go accepts).
        if (pax !== undefined || longName !== undefined || longLink !== undefined)
          throw new TarFormatError('the archive ends after an extended header');
        this.done = true;
        await this.src.drain();
        return undefined;
      }
      const raw = parseHeaderBlock(block);
      switch (raw.typeflag) {
        case 'x':
          pax = { ...pax, ...parsePaxRecords(await this.meta(raw, 'a pax header')) };
          continue;
        case 'g':
          // Global pax headers (e.g. git archive's commit id) are ignored, as Docker does.
          await this.meta(raw, 'a global pax header');
          continue;
        case 'L':
          longName = cString(await this.meta(raw, 'a GNU long name'));
          continue;
        case 'K':
          longLink = cString(await this.meta(raw, 'a GNU long link name'));
          continue;
        default:
          return this.begin(raw, pax, longName, longLink);
      }
    }
  }

  /** The current entry's data, in slices of the decompressed input. */
  async *body(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const chunk = await this.src.some(this.remaining, `the data of ${this.current}`);
      this.remaining -= chunk.length;
      yield chunk;
    }
  }

  private begin(
    raw: RawHeader,
    pax: PaxRecords | undefined,
    longName: string | undefined,
    longLink: string | undefined,
  ): TarEntry {
    if (raw.typeflag === 'S' || (pax && isSparse(pax)))
      throw new TarFormatError(`${raw.name}: GNU sparse files are not supported`);
    const entry: TarEntry = {
      name: longName ?? raw.name,
      type: raw.type,
      typeflag: raw.typeflag,
      mode: raw.mode & 0o7777,
      uid: raw.uid,
      gid: raw.gid,
      size: raw.size,
      mtime: new Date(raw.mtimeSeconds * 1000),
      linkname: longLink ?? raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs: new Map(),
    };
    if (pax) applyPax(entry, pax);
    // Go's archive/tar: header-only types carry no data, whatever the size field says.
    if (headerOnly(entry.type)) entry.size = 0;
    this.current = JSON.stringify(entry.name);
    this.remaining = entry.size;
    this.padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    return entry;
  }

  /** Reads the data of a metadata entry, refusing sizes beyond {@link MAX_META_SIZE}. */
  private async meta(raw: RawHeader, what: string): Promise<Buffer> {
    if (raw.size > MAX_META_SIZE)
      throw new TarFormatError(`${what} of ${raw.size} bytes is larger than the ${MAX_META_SIZE} bytes allowed`);
    const data = raw.size === 0 ? EMPTY : await this.src.exact(raw.size, what);
    if (data === undefined) throw new TarFormatError(`unexpected end of data in ${what}`);
    const copy = Buffer.from(data); // the slice may share memory with the next chunk handed out
    await this.src.skip((BLOCK - (raw.size % BLOCK)) % BLOCK, what);
    return copy;
  }
}

/** A NUL-terminated name (GNU long names end with NUL), its bytes kept. */
function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return nameFromBytes(b, 0, end < 0 ? b.length : end);
}
