/**
 * The one place that maps image paths to host paths (ARCHITECTURE.md §1). Everything that touches a
 * rootfs — extraction of untrusted layers, snapshots, COPY — goes through {@link Rootfs.resolve}
 * so that a symlink in an image can never make Kiln read or write outside the root.
 */
import { lstatSync, readlinkSync } from './host-fs.js';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { errnoCode, fsError, FilesystemError } from '../errors.js';
import { CHOWN, type Ownership } from './ownership.js';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS); so do we, as ELOOP. */
const MAX_SYMLINKS = 40;

/** Options of {@link Rootfs.resolve}. */
export interface ResolveOptions {
  /** Follow a symlink in the last component too (inside the root). */
  followFinal?: boolean;
  /**
   * Refuse instead of clamping: a symlink whose target climbs above the root with `..`, or a
   * symlink loop, throws {@link UnsafePathError}. Extraction of untrusted layers uses this, so
   * that a layer relying on such a link is rejected rather than silently redirected.
   */
  strict?: boolean;
  /**
   * With `strict`: an absolute symlink target leaves the root too, instead of restarting at it.
   * A build context is a directory of the host, not an image: `link -> /etc` there points at
   * the host's /etc, so a context archive that writes through it is refused (issue 14).
   */
  confined?: boolean;
}

/** A path that only resolves by leaving the root (strict mode): a hostile or broken image. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

/** A directory on the host holding an image's filesystem. */
export class Rootfs {
  /** Absolute, normalised host directory, without a trailing separator (except for `/`). */
  readonly root: string;

  /**
   * @param ownership how owners are set in this rootfs (rootfs/ownership.ts): lchown(2) unless an
   *   in-process test without root asked to record them instead.
   */
  constructor(
    root: string,
    readonly ownership: Ownership = CHOWN,
  ) {
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
  async resolve(imagePath: string, opts?: ResolveOptions): Promise<string> {
    const followFinal = opts?.followFinal ?? false;
    const strict = opts?.strict ?? false;
    /** The symlink being followed, for messages. */
    let via = '';
    const resolved: string[] = [];
    // Components still to walk, first one last (so pop() is cheap).
    const pending = splitReversed(imagePath);
    let links = 0;
    while (pending.length > 0) {
      const part = pending.pop();
      if (part === undefined) break;
      if (part === '..') {
        if (strict && resolved.length === 0)
          throw new UnsafePathError(`${imagePath}: the symlink ${via || '/'} points outside the root`);
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
        // Synchronous: a few microseconds, where a promise per component costs tens (extraction
        // resolves every directory of a layer).
        isLink = lstatSync(host).isSymbolicLink();
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
        if (strict) throw new UnsafePathError(`${imagePath}: too many levels of symbolic links (a symlink loop)`);
        throw new FilesystemError(`resolving ${imagePath} in ${this.root}: too many levels of symbolic links`);
      }
      let target: string;
      try {
        target = readlinkSync(host);
      } catch (err) {
        throw fsError(`reading symlink ${host}`, err);
      }
      via = `/${[...resolved, part].join('/')}`;
      if (target.startsWith('/') && strict && opts?.confined === true)
        throw new UnsafePathError(`${imagePath}: the symlink ${via} points outside the root (to ${target})`);
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
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new Error(`${hostPath} is outside the rootfs ${this.root}`);
    return `/${rel.split(sep).join('/')}`;
  }
}

/** Path components without empty and '.' parts, in reverse order. */
function splitReversed(p: string): string[] {
  return p
    .split('/')
    .filter((c) => c !== '' && c !== '.')
    .reverse();
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

  /** `strict`, `confined`: resolve as {@link ResolveOptions} says (extraction of untrusted layers and contexts). */
  constructor(
    readonly rootfs: Rootfs,
    private readonly opts: { strict?: boolean; confined?: boolean } = {},
  ) {}

  async resolve(imagePath: string): Promise<string> {
    const parts = imagePath.split('/').filter((c) => c !== '' && c !== '.');
    const base = parts.pop();
    // '..' as the last component must be resolved as a whole, not appended.
    if (base === undefined || base === '..') return this.rootfs.resolve(imagePath, this.opts);
    return join(await this.resolveDir(`/${parts.join('/')}`), base);
  }

  /** Forgets everything; call after creating a symlink or removing or replacing a path. */
  clear(): void {
    this.dirs.clear();
  }

  private resolveDir(dir: string): Promise<string> {
    let host = this.dirs.get(dir);
    if (!host) {
      host = this.resolveFromParent(dir);
      this.dirs.set(dir, host);
    }
    return host;
  }

  /**
   * A directory from its (cached) parent: one lstat of the last component. Only a symlink there
   * (or a `..`) needs the full resolution, which gives the same answer for everything else.
   */
  private async resolveFromParent(dir: string): Promise<string> {
    const slash = dir.lastIndexOf('/');
    const name = dir.slice(slash + 1);
    if (dir === '/' || name === '' || name === '..' || dir.includes('/../') || dir.includes('/./'))
      return this.rootfs.resolve(dir, { ...this.opts, followFinal: true });
    const parent = await this.resolveDir(slash <= 0 ? '/' : dir.slice(0, slash));
    const host = join(parent, name);
    let st;
    try {
      st = lstatSync(host, { throwIfNoEntry: false });
    } catch (err) {
      if (errnoCode(err) !== 'ENOTDIR') throw fsError(`resolving ${dir} in ${this.rootfs.root}`, err);
    }
    return st?.isSymbolicLink() ? this.rootfs.resolve(dir, { ...this.opts, followFinal: true }) : host;
  }
}
