/**
 * The one place that maps image paths to host paths (DESIGN.md §2). Everything that touches a
 * rootfs — extraction of untrusted layers, snapshots, COPY — goes through {@link Rootfs.resolve}
 * so that a symlink in an image can never make Kiln read or write outside the root.
 */
import { lstat, readlink } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { errnoCode, fsError, FilesystemError } from '../errors.js';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS); so do we, as ELOOP. */
const MAX_SYMLINKS = 40;

/** A directory on the host holding an image's filesystem. */
export class Rootfs {
  /** Absolute, normalised host directory, without a trailing separator (except for `/`). */
  readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new Error(`rootfs root must be an absolute path, got "${root}"`);
    const n = normalize(root);
    this.root = n.length > 1 && n.endsWith(sep) ? n.slice(0, -1) : n;
  }

  /**
   * Host path of an absolute image path ('/etc/passwd'). Every parent component that is a
   * symlink is resolved INSIDE the root (chroot semantics: absolute targets are relative to
   * root, '..' never climbs above root). The final component is not followed unless
   * opts.followFinal. Never returns a path outside root. Components that do not exist are
   * taken literally, so the result can be used to create them.
   */
  async resolve(imagePath: string, opts?: { followFinal?: boolean }): Promise<string> {
    const followFinal = opts?.followFinal ?? false;
    const resolved: string[] = [];
    // Components still to walk, first one last (so pop() is cheap).
    const pending = splitReversed(imagePath);
    let links = 0;
    while (pending.length > 0) {
      const part = pending.pop();
      if (part === undefined) break;
      if (part === '..') {
        resolved.pop(); // at the root, '..' is the root (as in a chroot)
        continue;
      }
      if (pending.length === 0 && !followFinal) {
        resolved.push(part);
        break;
      }
      const host = join(this.root, ...resolved, part);
      let isLink: boolean;
      try {
        isLink = (await lstat(host)).isSymbolicLink();
      } catch (err) {
        const code = errnoCode(err);
        // Missing (or under a non-directory): the rest is taken literally; whoever uses the
        // path gets the ENOENT/ENOTDIR from the real operation. '..' in the rest still only
        // pops components of `resolved`, so it cannot leave the root either.
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          resolved.push(part);
          continue;
        }
        throw fsError(`resolving ${imagePath} in ${this.root}`, err);
      }
      if (!isLink) {
        resolved.push(part);
        continue;
      }
      if (++links > MAX_SYMLINKS) {
        throw new FilesystemError(`resolving ${imagePath} in ${this.root}: too many levels of symbolic links`);
      }
      let target: string;
      try {
        target = await readlink(host);
      } catch (err) {
        throw fsError(`reading symlink ${host}`, err);
      }
      // An absolute target restarts at the image root, not the host root.
      if (target.startsWith('/')) resolved.length = 0;
      pending.push(...splitReversed(target));
    }
    return resolved.length === 0 ? this.root : join(this.root, ...resolved);
  }

  /**
   * The image path of a host path inside the root (the inverse of {@link resolve} for paths it
   * returned). Throws for paths outside the root: that would be a bug, not bad input.
   */
  imagePathOf(hostPath: string): string {
    const rel = relative(this.root, hostPath);
    if (rel === '') return '/';
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new Error(`${hostPath} is outside the rootfs ${this.root}`);
    return `/${rel.split(sep).join('/')}`;
  }
}

/** Path components without empty and '.' parts, in reverse order. */
function splitReversed(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.').reverse();
}

/**
 * A resolver that remembers resolved directories: one symlink-aware lookup per directory instead
 * of one lstat per component of every path. Gives the same results as {@link Rootfs.resolve}
 * (without followFinal) as long as no symlink is created and nothing is removed or replaced in
 * the rootfs; whoever does either calls {@link clear}. Creating files and directories where
 * nothing was keeps it valid: a missing directory resolves to the host path it is then made at.
 */
export class CachedResolver {
  private readonly dirs = new Map<string, Promise<string>>();

  constructor(readonly rootfs: Rootfs) {}

  async resolve(imagePath: string): Promise<string> {
    const parts = imagePath.split('/').filter((c) => c !== '' && c !== '.');
    const base = parts.pop();
    // '..' as the last component must be resolved as a whole, not appended.
    if (base === undefined || base === '..') return this.rootfs.resolve(imagePath);
    return join(await this.resolveDir(`/${parts.join('/')}`), base);
  }

  /** Forgets everything; call after creating a symlink or removing or replacing a path. */
  clear(): void {
    this.dirs.clear();
  }

  private resolveDir(dir: string): Promise<string> {
    let host = this.dirs.get(dir);
    if (!host) {
      host = this.rootfs.resolve(dir, { followFinal: true });
      this.dirs.set(dir, host);
    }
    return host;
  }
}
