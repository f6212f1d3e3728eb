/**
 * COPY/ADD sources live in a tree with chroot semantics: the build context or an earlier stage's
 * rootfs, each seen as a {@link Rootfs}. BuildKit resolves sources the same way (`fs.RootPath`
 * with FollowSymlinks): `..` stops at the root and a symlink — even an absolute one — resolves
 * inside the tree, so a source can never reach the host.
 */
import { lstat, readdir } from './host-fs.js';
import { compareNames } from './image-path.js';
import { errnoCode, fsError } from '../errors.js';
import type { Rootfs } from './rootfs.js';

/** A source path that exists. */
export interface TreeEntry {
  /** The path as named (unresolved), absolute in the tree. */
  imagePath: string;
  /** Host path with every symlink (the last one too, unless asked not to) resolved inside the tree. */
  hostPath: string;
  /** The resolved path as an image path of the tree (for filters that see the tree's real layout). */
  resolvedPath: string;
  isDir: boolean;
}

/**
 * The entry at `imagePath`, following a final symlink inside the tree unless `follow` is false
 * (then a symlink is itself the entry); undefined when nothing is there.
 */
export async function statInTree(tree: Rootfs, imagePath: string, follow = true): Promise<TreeEntry | undefined> {
  const hostPath = await tree.resolve(imagePath, { followFinal: follow });
  try {
    const st = await lstat(hostPath);
    return { imagePath, hostPath, resolvedPath: tree.imagePathOf(hostPath), isDir: st.isDirectory() };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fsError(`reading ${imagePath}`, err);
  }
}

/** The names in directory `imagePath` of the tree (symlinks followed), sorted by bytes; none when it is no directory. */
export async function listInTree(tree: Rootfs, imagePath: string): Promise<string[]> {
  try {
    return (await readdir(await tree.resolve(imagePath, { followFinal: true }))).sort(compareNames);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw fsError(`listing ${imagePath}`, err);
  }
}
