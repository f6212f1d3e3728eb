/**
 * Extended attributes of a layer's entries (pax `SCHILY.xattr.*`, e.g. `security.capability`),
 * applied once the layer's entries are all written: one host tool call per layer instead of one
 * per file, and after every chown(2) of the layer (chown clears file capabilities). Each path
 * is pinned when written and found again inside the root (rootfs/pinned-path.ts): it must still
 * be that inode, so a later entry of the same layer can never redirect an attribute elsewhere.
 */
import type { Logger } from '../log.js';
import { locate, type PathResolver, type PinnedPath } from '../rootfs/pinned-path.js';
import type { XattrItem, XattrTool } from './tools.js';

interface Pending {
  pinned: PinnedPath;
  xattrs: ReadonlyMap<string, Buffer>;
}

/** How {@link PendingXattrs.apply} sets attributes and reports on them (a subset of the layer writer's options). */
export interface ApplyXattrsOptions {
  /** The host tool that sets attributes; without one, a warning instead. */
  xattrs?: XattrTool | undefined;
  logger: Logger;
  /** The layer's name in warnings. */
  layerName: string;
  signal?: AbortSignal | undefined;
}

/** Attributes waiting for the end of the layer, by image path. */
export class PendingXattrs {
  private readonly items = new Map<string, Pending>();

  /** Remembers the attributes of the entry just written (pinned to its image path and inode). */
  add(pinned: PinnedPath, xattrs: ReadonlyMap<string, Buffer>): void {
    if (xattrs.size > 0) this.items.set(pinned.imagePath, { pinned, xattrs });
  }

  /** A later entry replaced `imagePath`: its attributes are its own now. */
  drop(imagePath: string): void {
    this.items.delete(imagePath);
  }

  /** Applies what is pending (returning the host paths it set attributes on); without a tool, warns that the attributes were not applied. */
  async apply(resolver: PathResolver, opts: ApplyXattrsOptions): Promise<string[]> {
    const { xattrs: tool, logger, layerName, signal } = opts;
    if (this.items.size === 0) return [];
    if (!tool) {
      const [first] = this.items;
      logger.warn(
        `layer ${layerName}: extended attributes of ${this.items.size} path(s) not applied (e.g. ${[...(first?.[1].xattrs.keys() ?? [])].join(', ')} of ${first?.[0] ?? ''}): setfattr (Debian package attr) was not found`,
      );
      this.items.clear();
      return [];
    }
    const items: XattrItem[] = [];
    for (const p of this.items.values()) {
      const host = await locate(resolver, p.pinned);
      if (host !== undefined) items.push({ host, xattrs: p.xattrs });
    }
    this.items.clear();
    const refused = await tool.set(items, signal);
    // Docker applies xattrs best effort too where the kernel refuses a namespace (moby pkg/archive).
    for (const msg of refused) logger.warn(`layer ${layerName}: ${msg}`);
    return items.map((i) => i.host);
  }
}
