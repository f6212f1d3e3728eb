/**
 * Encodes tar headers for the layers Kiln writes (ARCHITECTURE.md §5 "Written tar"): ustar blocks,
 * with a pax extended header (POSIX.1-2001) only where ustar cannot hold a value — long or
 * non-ASCII names and link targets, ids above 0o7777777, huge sizes — and for extended
 * attributes (`SCHILY.xattr.*`, binary-safe, as GNU tar and Go's archive/tar write them).
 * uname/gname are empty, no atime/ctime, records sorted: the same header always encodes the same.
 */
import { bytesOfName, hasRawBytes } from '../oci/file-names.js';
import { encodeHeaderBlock, MAX_OCTAL_11, MAX_OCTAL_7 } from './tar-block.js';
import { BLOCK } from './tar-read.js';
import { encodePaxRecords, xattrKey } from './tar-pax.js';

/** An entry to write. `name` is relative (no leading `/`), directories end with `/`. */
export interface WriteHeader {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes that follow (regular files only). */
  size: number;
  mtimeSeconds: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
}

const TYPEFLAG: Record<WriteHeader['type'], string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

/** Two zero blocks end an archive (POSIX ustar). */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

const ZEROS = Buffer.alloc(BLOCK);

/** The zero bytes that pad `size` bytes of data to a whole block. */
export function padding(size: number): Buffer {
  return ZEROS.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK);
}

/** ASCII without NUL: what a ustar text field holds as is. */
const isAscii = (s: string): boolean => Buffer.byteLength(s) === s.length && !s.includes('\0');

/** Splits a long ASCII name into ustar prefix (≤155) and name (≤100) at a slash, if possible. */
function splitUstar(name: string): { prefix: string; rest: string } | undefined {
  if (name.length <= 100) return { prefix: '', rest: name };
  // A directory's trailing slash stays with the name part.
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/' || i === name.length - 1) continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest !== '') return { prefix, rest };
    if (prefix.length <= 155) break;
  }
  return undefined;
}

/** The ustar name and prefix fields of a name ustar can hold, or undefined when pax must carry it. */
function ustarName(name: string): { prefix: string; rest: string } | undefined {
  return isAscii(name) ? splitUstar(name) : undefined;
}

/** A printable stand-in for a name carried by pax (readers that ignore pax get something sensible). */
function truncated(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
}

/**
 * The header bytes of one entry: a pax header (its own block plus records) when needed, then
 * the ustar block. The entry's data and {@link padding} follow it.
 */
export function encodeHeader(h: WriteHeader): Buffer {
  const records: [string, string | Buffer][] = [];
  const split = ustarName(h.name);
  // Names are bytes (oci/file-names.ts); the pax records carry them exactly, as Go's
  // archive/tar writes them, and say so where they are not UTF-8 (POSIX pax `hdrcharset`, as
  // GNU tar and libarchive write it), so that tar tools take them as they are.
  if (!split) records.push(['path', bytesOfName(h.name)]);
  const linkname = h.linkname ?? '';
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  if (!linkFits) records.push(['linkpath', bytesOfName(linkname)]);
  if (hasRawBytes(h.name) || hasRawBytes(linkname)) records.push(['hdrcharset', 'BINARY']);
  if (h.uid > MAX_OCTAL_7) records.push(['uid', String(h.uid)]);
  if (h.gid > MAX_OCTAL_7) records.push(['gid', String(h.gid)]);
  if (h.size > MAX_OCTAL_11) records.push(['size', String(h.size)]);
  for (const [name, value] of [...(h.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    records.push([xattrKey(name), value]);
  }
  const block = encodeHeaderBlock({
    name: split ? split.rest : truncated(h.name),
    typeflag: TYPEFLAG[h.type],
    mode: h.mode,
    uid: Math.min(h.uid, MAX_OCTAL_7),
    gid: Math.min(h.gid, MAX_OCTAL_7),
    size: Math.min(h.size, MAX_OCTAL_11),
    mtimeSeconds: Math.max(0, Math.min(h.mtimeSeconds, MAX_OCTAL_11)),
    linkname: linkFits ? linkname : truncated(linkname),
    ...(h.devmajor !== undefined ? { devmajor: h.devmajor } : {}),
    ...(h.devminor !== undefined ? { devminor: h.devminor } : {}),
    ...(split && split.prefix !== '' ? { prefix: split.prefix } : {}),
  });
  if (records.length === 0) return block;
  records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const data = encodePaxRecords(records);
  // Go's archive/tar names pax headers "<dir>/PaxHeaders.0/<base>"; readers ignore the name.
  const slash = h.name.replace(/\/$/, '').lastIndexOf('/');
  const paxName = truncated(
    `${slash < 0 ? '' : `${h.name.slice(0, slash)}/`}PaxHeaders.0/${h.name.slice(slash + 1).replace(/\/$/, '')}`,
  );
  const paxBlock = encodeHeaderBlock({
    name: paxName,
    typeflag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtimeSeconds: 0,
  });
  return Buffer.concat([paxBlock, data, padding(data.length), block]);
}
