/**
 * What layers need from the host that Node cannot do itself: mknod(2) for fifos and device
 * nodes, extended attributes (no xattr API in Node), and zstd (not in Node 20's zlib). The
 * implementations live in `exec/` (the only home of child_process) and are passed in by the
 * executor; without one, the feature degrades as documented where it is used.
 */
import type { Duplex } from 'node:stream';

/** Kinds of special files Node cannot create by itself. */
export type SpecialKind = 'fifo' | 'char' | 'block';

/**
 * Creates a fifo or device node at a host path (metadata is set afterwards). Resolves
 * 'not-permitted' where the system forbids it (no CAP_MKNOD, a user namespace): extraction then
 * skips the entry with a warning, as Docker does in rootless mode.
 */
export type SpecialFileMaker = (
  hostPath: string,
  kind: SpecialKind,
  dev: { major: number; minor: number },
) => Promise<void | 'not-permitted'>;

/** Extended attributes of one host path. */
export interface XattrItem {
  host: string;
  xattrs: ReadonlyMap<string, Buffer>;
}

/** Reads and writes extended attributes, never following a final symlink. */
export interface XattrTool {
  /** Sets attributes; resolves one message per attribute the system refused (e.g. `trusted.*` without CAP_SYS_ADMIN). */
  set(items: XattrItem[], signal?: AbortSignal): Promise<string[]>;
  /** The `security.capability` attribute of each given path that has one. */
  capabilities(hosts: string[], signal?: AbortSignal): Promise<Map<string, Buffer>>;
}

/** zstd streams (RFC 8878). */
export interface ZstdCodec {
  /** Compresses at `level` (1–19, 20–22 "ultra"); the output depends only on input, level and zstd's version. */
  compress(level: number, signal?: AbortSignal): Duplex;
  decompress(signal?: AbortSignal): Duplex;
}

/** The host helpers available to layer extraction and writing. */
export interface LayerTools {
  mknod?: SpecialFileMaker;
  xattrs?: XattrTool;
  zstd?: ZstdCodec;
}

/** The name of the file capability attribute (capabilities(7) "File capabilities"). */
export const CAPABILITY_XATTR = 'security.capability';
