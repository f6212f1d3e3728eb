/**
 * Whiteouts of one layer (OCI image spec layer.md "Whiteouts"): `.wh.NAME` removes NAME as the
 * lower layers left it, `.wh..wh..opq` empties a directory of lower-layer content. What the
 * layer itself wrote is spared, whatever the order of the entries ("whiteout files MUST only
 * apply to resources in lower/parent layers").
 */
import { readdirSync, rmSync } from '../rootfs/host-fs.js';
import { dirname, join } from 'node:path';
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

/** Remembers what a layer wrote and removes lower-layer content around it. */
export class LayerWhiteouts {
  /** Host paths this layer created or merged into. */
  private readonly written = new Set<string>();
  /** Host directories that contain something this layer wrote. */
  private readonly ancestors = new Set<string>();

  /**
   * `removed` is told whenever something was removed (cached resolutions may be stale), with its
   * host path; `rm` removes a path (default: recursively; an in-place build spares kept paths).
   */
  constructor(
    private readonly removed: (host: string) => void,
    private readonly rm: (host: string) => void = (host) => rmSync(host, { recursive: true, force: true }),
  ) {}

  /** Records an entry of this layer at `host` (under `root`). */
  markWritten(host: string, root: string): void {
    this.written.add(host);
    for (let d = dirname(host); d !== root && !this.ancestors.has(d); d = dirname(d)) {
      this.ancestors.add(d);
      if (d === dirname(d)) break;
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

  private removeLower(host: string): void {
    if (!this.written.has(host) && !this.ancestors.has(host)) {
      this.remove(host);
      return;
    }
    this.removeLowerChildren(host);
  }

  private removeLowerChildren(hostDir: string): void {
    let names: string[];
    try {
      names = readdirSync(hostDir);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const name of names) this.removeLower(join(hostDir, name));
  }
}
