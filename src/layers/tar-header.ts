/**
 * tar-stream's header type, with its fields optional as pack() accepts them, `linkname` null as
 * extract() decodes it for non-links, and `pax` typed as the string records tar-stream reads and
 * writes (node_modules/tar-stream/headers.js encodePax, extract.js _applyLongHeaders).
 */
import type { Header } from 'tar-stream';

/** A tar header as tar-stream hands it over or takes it, PAX records included. */
export type TarHeader = Partial<Omit<Header, 'pax' | 'linkname'>> &
  Pick<Header, 'name'> & {
    linkname?: string | null;
    /** PAX extended records of this entry (POSIX.1-2001 pax format): `uid`, `gid`, `mtime`, `path`, … */
    pax?: Record<string, string> | null;
  };

/** The largest id the 8-byte octal ustar uid/gid fields hold as tar-stream writes them (6 digits). */
export const MAX_USTAR_ID = 0o777777;

/** uid/gid of an entry: the PAX records win over the ustar fields, which overflow at 0o777777. */
export function entryOwner(h: TarHeader): { uid: number; gid: number } {
  const paxUid = h.pax?.['uid'];
  const paxGid = h.pax?.['gid'];
  return {
    uid: paxUid !== undefined && /^\d+$/.test(paxUid) ? Number(paxUid) : (h.uid ?? 0),
    gid: paxGid !== undefined && /^\d+$/.test(paxGid) ? Number(paxGid) : (h.gid ?? 0),
  };
}

/** Modification time of an entry: PAX `mtime` (fractional seconds) wins over the ustar field. */
export function entryMtime(h: TarHeader): Date {
  const pax = h.pax?.['mtime'];
  if (pax !== undefined && /^-?\d+(\.\d+)?$/.test(pax)) return new Date(Number(pax) * 1000);
  return h.mtime ?? new Date(0);
}

/** Permission and special bits of an entry; some writers put the file type bits in the mode field too. */
export function entryMode(h: TarHeader): number {
  return (h.mode ?? 0) & 0o7777;
}
