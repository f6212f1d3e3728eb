/**
 * The 512-byte tar header block (POSIX.1-1988 ustar, with GNU's and v7's variants): decoding
 * for the reader and encoding for the writer. Field offsets and number formats follow POSIX
 * pax(1) "ustar Interchange Format" and Go's archive/tar (base-256 numbers, checksum rules).
 */
import { nameFromBytes } from '../oci/file-names.js';
import { MAX_ID, TarFormatError, type TarEntryType } from './tar-entry.js';

/** A header block decoded, before pax or GNU long-name records are applied. */
export interface RawHeader {
  name: string;
  typeflag: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSeconds: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \0', 'latin1');

const TYPES: Partial<Record<string, TarEntryType>> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

/** Types whose entries never carry data (Go's archive/tar `isHeaderOnlyType`). */
export function headerOnly(type: TarEntryType): boolean {
  return type !== 'file' && type !== 'other';
}

/** A NUL-terminated name field, its bytes kept (names need not be UTF-8; see `oci/file-names.ts`). */
function text(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return nameFromBytes(block, start, end >= 0 && end < start + length ? end : start + length);
}

/** A numeric field: octal text (spaces and NULs around it ignored), or GNU base-256 when the high bit is set. */
function numeric(block: Buffer, start: number, length: number, field: string): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // Base-256 two's complement (Go's parseNumeric): bit 6 of the first byte is the sign, and a
    // negative number is read as the inverse of its bytes (-a-1 == ^a).
    const inv = first & 0x40 ? 0xff : 0;
    let value = 0;
    for (let i = start; i < start + length; i++) {
      let byte = (block[i] ?? 0) ^ inv;
      if (i === start) byte &= 0x7f;
      value = value * 256 + byte;
      if (value > Number.MAX_SAFE_INTEGER)
        throw new TarFormatError(`the ${field} field of a tar header is out of range`);
    }
    return inv ? -(value + 1) : value;
  }
  const s = block.toString('latin1', start, start + length).replace(/^[ \0]+|[ \0]+$/g, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s))
    throw new TarFormatError(`the ${field} field of a tar header is not a number: ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

/** Checks the header checksum: the sum of all bytes with the checksum field read as spaces, unsigned or (old tars) signed. */
function verifyChecksum(block: Buffer): void {
  const stored = numeric(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed)
    throw new TarFormatError('invalid tar header checksum (not a tar, or a corrupt one)');
}

/** Decodes one header block; throws TarFormatError for a bad checksum or malformed numbers. */
export function parseHeaderBlock(block: Buffer): RawHeader {
  verifyChecksum(block);
  const typeflag = String.fromCharCode(block[156] ?? 0);
  let name = text(block, 0, 100);
  // POSIX ustar splits long names into prefix + name; GNU tar uses that space for other fields.
  if (block.subarray(257, 263).equals(USTAR_MAGIC) && !block.subarray(257, 265).equals(GNU_MAGIC)) {
    const prefix = text(block, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  let type: TarEntryType = TYPES[typeflag] ?? 'other';
  // Old (v7) archives mark directories by a trailing slash on a regular file entry.
  if (typeflag === '\0' && name.endsWith('/')) type = 'directory';
  const size = numeric(block, 124, 12, 'size');
  if (size < 0) throw new TarFormatError(`${JSON.stringify(name)}: negative size in tar header`);
  const uid = numeric(block, 108, 8, 'uid');
  const gid = numeric(block, 116, 8, 'gid');
  // Ids above 2^31−1 would wrap (the kernel takes them modulo 2^32): a hostile header, not an owner.
  if (uid < 0 || gid < 0 || uid > MAX_ID || gid > MAX_ID)
    throw new TarFormatError(
      `${JSON.stringify(name)}: owner ${uid}:${gid} out of range (0 to ${MAX_ID}) in tar header`,
    );
  return {
    name,
    typeflag,
    type,
    mode: numeric(block, 100, 8, 'mode'),
    uid,
    gid,
    size,
    mtimeSeconds: numeric(block, 136, 12, 'mtime'),
    linkname: text(block, 157, 100),
    devmajor: type === 'character-device' || type === 'block-device' ? numeric(block, 329, 8, 'devmajor') : 0,
    devminor: type === 'character-device' || type === 'block-device' ? numeric(block, 337, 8, 'devminor') : 0,
  };
}

/** What the writer puts in one header block; values must fit their fields (the caller uses pax otherwise). */
export interface BlockFields {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSeconds: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** ustar name prefix (names longer than 100 bytes split at a slash). */
  prefix?: string;
}

/** Largest values of the octal fields: 7 digits for ids and modes, 11 for size and mtime. */
export const MAX_OCTAL_7 = 0o7777777;
export const MAX_OCTAL_11 = 0o77777777777;

function putOctal(block: Buffer, value: number, start: number, length: number): void {
  // Zero-padded digits and a terminating NUL, as GNU tar and Go write them.
  block.write(value.toString(8).padStart(length - 1, '0'), start, length - 1, 'latin1');
}

/**
 * Encodes a ustar header block (magic "ustar\0", version "00", empty uname/gname). Names must
 * be ASCII and at most 100 bytes (the writer puts anything else in pax records).
 */
export function encodeHeaderBlock(f: BlockFields): Buffer {
  const block = Buffer.alloc(512);
  block.write(f.name, 0, 100, 'latin1');
  putOctal(block, f.mode & 0o7777, 100, 8);
  putOctal(block, f.uid, 108, 8);
  putOctal(block, f.gid, 116, 8);
  putOctal(block, f.size, 124, 12);
  putOctal(block, f.mtimeSeconds, 136, 12);
  block.write(f.typeflag, 156, 1, 'latin1');
  if (f.linkname) block.write(f.linkname, 157, 100, 'latin1');
  USTAR_MAGIC.copy(block, 257);
  block.write('00', 263, 2, 'latin1');
  putOctal(block, f.devmajor ?? 0, 329, 8);
  putOctal(block, f.devminor ?? 0, 337, 8);
  if (f.prefix) block.write(f.prefix, 345, 155, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  // Six digits, NUL, space: the classic checksum layout every reader accepts.
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}
