/**
 * Which tar entries a layer gets for a list of changes, in which order (ARCHITECTURE.md §5: "entries
 * sorted, parent directories present"). PURE: paths in, planned entries out.
 */
import type { Change } from '../rootfs/change.js';
import { baseName, comparePaths, parentPath } from '../rootfs/image-path.js';

/** One planned entry: a path read from the rootfs (with an opaque marker after it), or a whiteout. */
export type PlannedEntry =
  { kind: 'node'; path: string; opaque: boolean } | { kind: 'whiteout'; path: string; target: string };

/**
 * Plans the entries for `changes`, whose paths are canonical image paths (no symlinked parents).
 * Every ancestor directory of every entry is added, since extractors create
 * missing parents with default metadata otherwise; whiteouts become `dir/.wh.name`
 * entries (OCI image spec layer.md "Whiteouts"). The root itself gets no entry.
 */
export function planEntries(changes: Change[]): PlannedEntry[] {
  const nodes = new Map<string, { opaque: boolean }>();
  const whiteouts = new Map<string, string>();
  const addParents = (p: string): void => {
    for (let d = parentPath(p); d !== '/' && !nodes.has(d); d = parentPath(d)) {
      nodes.set(d, { opaque: false });
    }
  };
  for (const c of changes) {
    if (c.kind === 'whiteout') {
      if (c.path === '/') continue;
      const dir = parentPath(c.path);
      whiteouts.set(dir === '/' ? `/.wh.${baseName(c.path)}` : `${dir}/.wh.${baseName(c.path)}`, c.path);
      addParents(c.path);
      continue;
    }
    const node = nodes.get(c.path) ?? { opaque: false };
    if (c.kind === 'opaque') node.opaque = true;
    nodes.set(c.path, node);
    addParents(c.path);
  }
  const planned: PlannedEntry[] = [];
  for (const [path, n] of nodes) planned.push({ kind: 'node', path, ...n });
  for (const [path, target] of whiteouts) planned.push({ kind: 'whiteout', path, target });
  return planned.sort((a, b) => comparePaths(a.path, b.path));
}
