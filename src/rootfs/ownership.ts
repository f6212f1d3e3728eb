/**
 * How the owner of what Kiln writes into a rootfs is set: the directories WORKDIR and RUN make,
 * the files and directories COPY and ADD write. A build always sets them with lchown(2) and
 * fchown(2), which takes root for any owner but the process's own. The in-process stage tests
 * (issue 12) run without root: they opt in to {@link ownershipFor}'s recording stand-in, which
 * notes the owner each path was to get and leaves the path the process's. Extraction of layers
 * keeps its own chown: it only ever sets the owners the layer's entries carry.
 */
import type { FileHandle } from 'node:fs/promises';
import { lchown } from './host-fs.js';

/** A numeric owner, as a layer records it. */
export interface Owner {
  uid: number;
  gid: number;
}

/** Sets owners inside a rootfs. */
export interface Ownership {
  /** Gives `host` (never following a final symlink) the owner `owner`. */
  set(host: string, owner: Owner): Promise<void>;
  /** Gives the open file `fh`, at `host`, the owner `owner` (the same inode, whatever `host` is now). */
  setOpen(fh: FileHandle, host: string, owner: Owner): Promise<void>;
}

/** lchown(2) and fchown(2): what every build does. */
export const CHOWN: Ownership = {
  set: (host, owner) => lchown(host, owner.uid, owner.gid),
  setOpen: (fh, _host, owner) => fh.chown(owner.uid, owner.gid),
};

/** Notes the owner each host path was to get, and sets none. */
export class RecordedOwnership implements Ownership {
  /** Host path → the owner it was given last. */
  readonly wanted = new Map<string, Owner>();

  set(host: string, owner: Owner): Promise<void> {
    this.wanted.set(host, owner);
    return Promise.resolve();
  }

  setOpen(_fh: FileHandle, host: string, owner: Owner): Promise<void> {
    return this.set(host, owner);
  }
}

/**
 * The ownership of a rootfs: {@link CHOWN} as root, always; a {@link RecordedOwnership} only when
 * the process is not root and the caller asked for it (`recordUnlessRoot`, in-process tests), so
 * that a build run as root never silently loses an owner.
 */
export function ownershipFor(recordUnlessRoot: boolean, euid: number | undefined = process.geteuid?.()): Ownership {
  return recordUnlessRoot && euid !== undefined && euid !== 0 ? new RecordedOwnership() : CHOWN;
}
