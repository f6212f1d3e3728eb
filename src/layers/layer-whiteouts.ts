/**
 * Whiteouts of one layer (OCI image spec layer.md "Whiteouts"): `.wh.NAME` removes NAME as the
 * lower layers left it, `.wh..wh..opq` empties a directory of lower-layer content. What the
 * layer itself wrote is spared, whatever the order of the entries ("whiteout files MUST only
 * apply to resources in lower/parent layers").
 *
 * The bookkeeping is per directory, not per entry (issue 11, finding 8): a directory the layer
 * made, emptied with an opaque marker or found empty holds nothing of the lower layers, and is
 * remembered as such with no names at all. Names are only kept for directories the lower layers
 * made and this layer writes into (a base layer adding to /etc), since only there must a later
 * whiteout tell the layer's entries from lower ones. A first layer, or any layer that adds new
 * trees, costs one record per directory however many entries it has.
 */
import { opendirSync, readdirSync, rmSync } from '../rootfs/host-fs.js';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';

/** Prefix of whiteout entries and the name of the opaque marker. */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * What a `.wh.` entry named `base` asks for: the opaque marker, removal of a name, AUFS
 * bookkeeping (other `.wh..wh.` names such as `.wh..wh.plnk`, which Docker skips too), or
 * nothing sensible (`.wh.`, `.wh..`, `.wh...`: a hostile or broken layer).
 */
export function whiteoutOf(base: string): 'opaque' | 'aufs' | 'invalid' | { name: string } {
  if (base === OPAQUE_MARKER) return 'opaque';
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return 'aufs';
  const name = base.slice(WHITEOUT_PREFIX.length);
  return name === '' || name === '.' || name === '..' ? 'invalid' : { name };
}

/** A directory everything in which (recursively) is this layer's. */
const OWN = 'own';
/** What a layer knows of one host directory: all of it is its own, or these names in it are (written, or merged into). */
type DirRecord = typeof OWN | Set<string>;

/** Whether `dir` has no entries (one readdir step, not a listing). */
function isEmptyDir(dir: string): boolean {
  try {
    const d = opendirSync(dir);
    try {
      return d.readSync() === null;
    } finally {
      d.closeSync();
    }
  } catch {
    return false;
  }
}

/** Remembers, per directory, what a layer wrote, and removes lower-layer content around it. */
export class LayerWhiteouts {
  private readonly dirs = new Map<string, DirRecord>();

  /**
   * `root` is the rootfs's host path, as the layer begins. `removed` is told whenever something
   * was removed (cached resolutions may be stale), with its host path; `rm` removes a path
   * (default: recursively; an in-place build spares kept paths).
   */
  constructor(
    private readonly root: string,
    private readonly removed: (host: string) => void,
    private readonly rm: (host: string) => void = (host) => rmSync(host, { recursive: true, force: true }),
  ) {
    // The first layer of a stage: nothing below is from a lower layer.
    if (isEmptyDir(root)) this.dirs.set(root, OWN);
  }

  /** The layer made the directory `hostDir` (and so everything that will be below it). */
  created(hostDir: string): void {
    this.dirs.set(hostDir, OWN);
    // A whiteout of a lower directory above it must spare it.
    this.markWritten(hostDir);
  }

  /** Records an entry of this layer at `host` (under the root). */
  markWritten(host: string): void {
    let child = host;
    for (let dir = dirname(host); child !== this.root && child !== dir; child = dir, dir = dirname(dir)) {
      const rec = this.dirs.get(dir);
      if (rec === OWN) return;
      const name = basename(child);
      if (rec instanceof Set) {
        // Already recorded: so are the directories above it.
        if (rec.has(name)) return;
        rec.add(name);
      } else if (this.ownAbove(dir)) {
        // Inside a directory the layer made: remembered once, so its siblings stop here.
        this.dirs.set(dir, OWN);
        return;
      } else {
        this.dirs.set(dir, new Set([name]));
      }
    }
  }

  /** Applies a whiteout of `name` in `hostDir`, or an opaque marker of `hostDir` when `name` is undefined. */
  apply(hostDir: string, name: string | undefined): void {
    if (name === undefined) this.removeLowerChildren(hostDir);
    else this.removeLower(join(hostDir, name));
  }

  /** Removes whatever is at `host` (recursively; rm never follows symlinks). */
  remove(host: string): void {
    this.removed(host);
    this.rm(host);
  }

  /** Whether a directory above `host` (up to the root) is all this layer's. */
  private ownAbove(host: string): boolean {
    for (let d = host; d !== this.root;) {
      const up = dirname(d);
      if (up === d) return false;
      if (this.dirs.get(up) === OWN) return true;
      d = up;
    }
    return false;
  }

  private isOwn(host: string): boolean {
    return this.dirs.get(host) === OWN || this.ownAbove(host);
  }

  private removeLower(host: string): void {
    if (this.isOwn(host)) return;
    const parent = this.dirs.get(dirname(host));
    // The layer wrote it or something below it: only lower content below it goes.
    if (parent instanceof Set && parent.has(basename(host))) this.removeLowerChildren(host);
    else this.remove(host);
  }

  private removeLowerChildren(hostDir: string): void {
    if (this.isOwn(hostDir)) return;
    let names: string[];
    try {
      names = readdirSync(hostDir);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    const rec = this.dirs.get(hostDir);
    for (const name of names) {
      const host = join(hostDir, name);
      if (rec instanceof Set && rec.has(name)) this.removeLowerChildren(host);
      else this.remove(host);
    }
    // Nothing of the lower layers is left in it: its names need not be remembered any more.
    this.dirs.set(hostDir, OWN);
  }
}
