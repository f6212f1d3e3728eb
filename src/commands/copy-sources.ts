/**
 * Which files a COPY/ADD source names in its tree (the build context or a `--from` stage), with
 * BuildKit's rules: wildcards per component (Go filepath.Match), `..` stopping at the tree's root
 * and symlinks resolved inside the tree (chroot semantics), `.dockerignore` hiding context paths
 * (an ignored path is "not found"). With `--parents` (Dockerfile reference, "COPY --parents") a
 * source keeps its path below the destination: relative to the tree root, or to the pivot of a
 * `/./` in the source (`COPY --parents ./x/./y/*.txt /dst/` gives `/dst/y/…`), and `**` may span
 * directories.
 */
import { posix } from 'node:path';
import { cleanPath } from '../context/pattern.js';
import { componentGlob, hasWildcard, PathGlob } from '../context/glob.js';
import type { PathFilter } from '../context/path-filter.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { listInTree, statInTree, type TreeEntry } from '../rootfs/sources.js';

/** Where sources are looked up. */
export interface SourceTree {
  root: Rootfs;
  /** `.dockerignore` of the build context (empty for a stage), on paths relative to the tree root. */
  ignore: PathFilter;
  /** Names the tree in messages: "the build context", "stage builder". */
  label: string;
}

/** One matched source. */
export interface MatchedSource {
  entry: TreeEntry;
  /** The name it gets when copied into a directory: the matched path's last component. */
  name: string;
  /** With `--parents`: the relative path it keeps below the destination. */
  keep?: string;
  /** With `--parents`: the tree path `keep` is relative to (the pivot). */
  base?: string;
}

/** A tree path (absolute) as a path relative to the tree root ('' for the root). */
export const relOf = (imagePath: string): string => imagePath.replace(/^\/+/, '');

/** Whether `.dockerignore` hides the entry: as named, or where its symlinks lead. */
function hidden(tree: SourceTree, entry: TreeEntry): boolean {
  if (tree.ignore.empty) return false;
  for (const p of new Set([entry.imagePath, entry.resolvedPath])) {
    const rel = relOf(p);
    if (rel !== '' && tree.ignore.verdict(rel, entry.isDir) === 'exclude') return true;
  }
  return false;
}

/** The existing, visible paths a source pattern names (several with wildcards), in sorted order. */
async function expand(tree: SourceTree, pattern: string): Promise<TreeEntry[]> {
  let candidates = ['/'];
  for (const part of posix.resolve('/', pattern).split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!hasWildcard(part)) {
        next.push(posix.join(dir, part.replace(/\\(.)/g, '$1')));
        continue;
      }
      const re = componentGlob(part);
      for (const name of await listInTree(tree.root, dir)) if (re.test(name)) next.push(posix.join(dir, name));
    }
    candidates = next;
  }
  const out: TreeEntry[] = [];
  for (const p of candidates) {
    const entry = await statInTree(tree.root, p);
    if (entry && !hidden(tree, entry)) out.push(entry);
  }
  return out;
}

/** A source without `--parents`: each match is copied by its own name. */
export async function matchSource(tree: SourceTree, src: string): Promise<MatchedSource[]> {
  return (await expand(tree, src)).map((entry) => ({ entry, name: posix.basename(entry.imagePath) || '/' }));
}

/**
 * A source with `--parents` (BuildKit convert_copy.go): split at the first `/./` into pivot and
 * pattern (no pivot: the tree root), then every path below the pivot that the pattern matches,
 * a matched directory taken whole.
 */
export async function matchParents(tree: SourceTree, src: string): Promise<MatchedSource[]> {
  const cut = src.indexOf('/./');
  const pivot = cut < 0 ? '/' : src.slice(0, cut);
  const pattern = relOf(cleanPath(posix.resolve('/', cut < 0 ? src : src.slice(cut + 3))));
  const out: MatchedSource[] = [];
  for (const base of await expand(tree, pivot)) {
    if (!base.isDir) continue;
    if (!hasWildcard(pattern)) {
      const entry = await statInTree(tree.root, posix.join(base.imagePath, pattern));
      if (entry && !hidden(tree, entry))
        out.push({ entry, name: posix.basename(entry.imagePath), keep: pattern, base: base.imagePath });
      continue;
    }
    const glob = new PathGlob(pattern);
    const walk = async (rel: string): Promise<void> => {
      for (const name of await listInTree(tree.root, posix.join(base.imagePath, rel))) {
        const keep = rel === '' ? name : `${rel}/${name}`;
        // Inside the walk a symlink is copied as a symlink, never followed (fsutil copy).
        const entry = await statInTree(tree.root, posix.join(base.imagePath, keep), false);
        if (!entry) continue;
        const ignored = tree.ignore.empty ? 'include' : tree.ignore.verdict(relOf(entry.imagePath), entry.isDir);
        if (ignored === 'exclude') continue;
        if (ignored === 'include' && glob.matches(keep)) out.push({ entry, name, keep, base: base.imagePath });
        else if (entry.isDir && glob.mayMatchBelow(keep)) await walk(keep);
      }
    };
    await walk('');
  }
  return out;
}
