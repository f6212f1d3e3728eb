/**
 * POSIX.1-2001 pax extended header records ("LEN KEY=VALUE\n"), kept as raw bytes: values such
 * as `SCHILY.xattr.security.capability` are binary and must round-trip byte for byte (GNU tar,
 * Go's archive/tar and Docker write them so).
 */
import { nameFromBytes } from '../oci/file-names.js';
import { MAX_ID, TarFormatError, type TarEntry } from './tar-entry.js';

/** Records of one pax header: keys as text, values as the bytes written. */
export type PaxRecords = Record<string, Buffer>;

const XATTR_PREFIX = 'SCHILY.xattr.';
const LIBARCHIVE_XATTR_PREFIX = 'LIBARCHIVE.xattr.';

/** Parses the data of a pax header ('x') into its records; malformed records are a TarFormatError. */
export function parsePaxRecords(data: Buffer): PaxRecords {
  const out: PaxRecords = {};
  let pos = 0;
  while (pos < data.length) {
    // Some writers pad the header data with NULs after the last record.
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const lenText = space < 0 ? '' : data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw new TarFormatError('malformed pax record length');
    const len = Number(lenText);
    const end = pos + len;
    if (end > data.length || data[end - 1] !== 0x0a)
      throw new TarFormatError('malformed pax record (length does not end at a newline)');
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end - 1) throw new TarFormatError('malformed pax record (no "=")');
    const key = data.toString('utf8', space + 1, eq);
    out[key] = data.subarray(eq + 1, end - 1);
    pos = end;
  }
  return out;
}

function decimal(key: string, v: Buffer, max: number): number {
  const s = v.toString('latin1');
  if (!/^[0-9]+$/.test(s) || Number(s) > max)
    throw new TarFormatError(`pax record ${key}=${JSON.stringify(s)} is not a valid number`);
  return Number(s);
}

/** Applies pax records over an entry's ustar fields (POSIX: a record wins, an empty value removes it). */
export function applyPax(entry: TarEntry, pax: PaxRecords): void {
  const xattrs = new Map(entry.xattrs);
  for (const [key, value] of Object.entries(pax)) {
    if (value.length === 0) continue;
    switch (key) {
      // Names are bytes, as Go's archive/tar reads them: UTF-8 by the standard, raw under
      // `hdrcharset=BINARY` (GNU tar) or from writers that never said (Go); kept either way.
      case 'path':
        entry.name = nameFromBytes(value);
        break;
      case 'linkpath':
        entry.linkname = nameFromBytes(value);
        break;
      case 'size':
        entry.size = decimal(key, value, Number.MAX_SAFE_INTEGER);
        break;
      case 'uid':
      case 'gid':
        entry[key] = decimal(key, value, Number.MAX_SAFE_INTEGER);
        break;
      case 'mtime': {
        const s = value.toString('latin1');
        if (!/^-?[0-9]+(\.[0-9]+)?$/.test(s))
          throw new TarFormatError(`pax record mtime=${JSON.stringify(s)} is not a valid time`);
        entry.mtime = new Date(Number(s) * 1000);
        break;
      }
      default:
        if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), value);
        // libarchive: the name is URL-encoded and the value base64 (bsdtar's own format).
        else if (key.startsWith(LIBARCHIVE_XATTR_PREFIX))
          xattrs.set(
            uriDecoded(key.slice(LIBARCHIVE_XATTR_PREFIX.length)),
            Buffer.from(value.toString('latin1'), 'base64'),
          );
    }
  }
  entry.xattrs = xattrs;
  // An id above 2^31−1 would wrap to another (4294967296 is root): the entry is hostile.
  if (entry.uid > MAX_ID || entry.gid > MAX_ID)
    throw new TarFormatError(
      `${JSON.stringify(entry.name)}: owner ${entry.uid}:${entry.gid} out of range (0 to ${MAX_ID}) in pax records`,
    );
}

function uriDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new TarFormatError(`malformed pax xattr name ${JSON.stringify(s)}`);
  }
}

/** Whether the records describe a GNU sparse file (pax formats 0.0–1.0), which Kiln does not unpack. */
export function isSparse(pax: PaxRecords): boolean {
  return Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'));
}

/** One encoded record: the length prefix counts itself, so it is found by iteration. */
function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

/** Encodes records in the given order (the writer sorts xattr keys, for stable digests). */
export function encodePaxRecords(records: [string, string | Buffer][]): Buffer {
  return Buffer.concat(records.map(([k, v]) => record(k, typeof v === 'string' ? Buffer.from(v, 'utf8') : v)));
}

/** The pax key of an extended attribute (GNU tar's and Go's `SCHILY.xattr.` prefix). */
export function xattrKey(name: string): string {
  return `${XATTR_PREFIX}${name}`;
}
