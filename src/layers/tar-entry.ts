/** A tar entry as the layer reader hands it over, and the error for archives that are not valid tars. */

/** An entry type as extraction handles it; 'other' covers types Docker does not apply either. */
export type TarEntryType =
  'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'other';

/** One entry, pax and GNU long-name headers already applied. */
export interface TarEntry {
  /** The entry name exactly as the archive gives it (leading `./` or `/` kept). */
  name: string;
  type: TarEntryType;
  /** The raw type flag, for messages about unsupported entries. */
  typeflag: string;
  /** Permission and special bits (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow (0 for header-only types, as in Go's archive/tar). */
  size: number;
  mtime: Date;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.*` (and `LIBARCHIVE.xattr.*`) pax records, as raw bytes. */
  xattrs: ReadonlyMap<string, Buffer>;
}

/**
 * The largest uid or gid an entry may have (2^31−1, as Docker's and the OCI runtime spec's int32
 * ids): the kernel takes ids modulo 2^32, so a bigger one is hostile (4294967296 is root).
 */
export const MAX_ID = 0x7fffffff;

/** A malformed or hostile archive; extraction reports it as an IntegrityError naming the layer. */
export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}
