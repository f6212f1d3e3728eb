/**
 * Extended attributes of a layer's entries (pax `SCHILY.xattr.*`, e.g. `security.capability`),
 * applied once the layer's entries are all written: one host tool call per layer instead of one
 * per file, and after every chown(2) of the layer (chown clears file capabilities). Each path
 * is resolved again inside the root and must still be the inode that was written, so a later
 * entry of the same layer can never redirect an attribute elsewhere.
 */
import { lstatSync } from '../rootfs/host-fs.js';
import type { Logger } from '../log.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { XattrItem, XattrTool } from './tools.js';

interface Pending {
  ino: number;
  xattrs: ReadonlyMap<string, Buffer>;
}

/** Attributes waiting for the end of the layer, by image path. */
export class PendingXattrs {
  private readonly items = new Map<string, Pending>();

  /** Remembers the attributes of the entry just written at `imagePath` (inode `ino`). */
  add(imagePath: string, ino: number, xattrs: ReadonlyMap<string, Buffer>): void {
    if (xattrs.size > 0) this.items.set(imagePath, { ino, xattrs });
  }

  /** A later entry replaced `imagePath`: its attributes are its own now. */
  drop(imagePath: string): void {
    this.items.delete(imagePath);
  }

  /** Applies what is pending (returning the host paths it set attributes on); without a tool, warns that the attributes were not applied. */
  async apply(rootfs: Rootfs, tool: XattrTool | undefined, logger: Logger, layerName: string, signal?: AbortSignal): Promise<string[]> {
    if (this.items.size === 0) return [];
    if (!tool) {
      const [first] = this.items;
      logger.warn(`layer ${layerName}: extended attributes of ${this.items.size} path(s) not applied (e.g. ${[...(first?.[1].xattrs.keys() ?? [])].join(', ')} of ${first?.[0] ?? ''}): setfattr (Debian package attr) was not found`);
      this.items.clear();
      return [];
    }
    const items: XattrItem[] = [];
    for (const [imagePath, p] of this.items) {
      const host = await rootfs.resolve(imagePath, { strict: true }).catch(() => undefined);
      if (host === undefined) continue;
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (st?.ino === p.ino) items.push({ host, xattrs: p.xattrs });
    }
    this.items.clear();
    const refused = await tool.set(items, signal);
    // Docker applies xattrs best effort too where the kernel refuses a namespace (moby pkg/archive).
    for (const msg of refused) logger.warn(`layer ${layerName}: ${msg}`);
    return items.map((i) => i.host);
  }
}
