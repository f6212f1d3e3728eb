/**
 * Applies tar entries of one layer to a rootfs, the way Docker/containerd apply layers (moby
 * pkg/archive/diff.go UnpackLayer; OCI image spec layer.md "Applying Changesets"): an existing
 * path is replaced unless both it and the entry are directories (then only metadata changes),
 * whiteouts remove content of lower layers only, directory mtimes are set last.
 */
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BuildError, errnoCode, fsError, IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import { baseName, imagePathOfEntryName } from '../rootfs/image-path.js';
import { CachedResolver, type Rootfs } from '../rootfs/rootfs.js';
import { entryMode, entryMtime, entryOwner, type TarHeader } from './tar-header.js';

/** Kinds of special files Node cannot create by itself (it has no mknod(2)). */
export type SpecialKind = 'fifo' | 'char' | 'block';

/** Creates a fifo or device node at a host path (e.g. via `mknod` in exec/); metadata is set afterwards. */
export type SpecialFileMaker = (hostPath: string, kind: SpecialKind, dev: { major: number; minor: number }) => Promise<void>;

export interface LayerWriterOptions {
  layerName: string;
  logger: Logger;
  signal?: AbortSignal;
  /** Without it, fifos and device nodes are skipped with a warning. */
  mknod?: SpecialFileMaker;
}

/** Prefix of whiteout entries and the name of the opaque marker (OCI image spec layer.md "Whiteouts"). */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

const SPECIAL: Partial<Record<string, SpecialKind>> = { fifo: 'fifo', 'character-device': 'char', 'block-device': 'block' };

/** Errors the OS raised (ENOSPC, EACCES, …), as opposed to a broken tar stream feeding us. */
function isSystemError(err: unknown): boolean {
  return /^E[A-Z0-9]+$/.test(errnoCode(err) ?? '');
}

/** The state of one layer's extraction: what it wrote (whiteouts must spare it) and directory times to set at the end. */
export class LayerWriter {
  /** Host paths this layer created or merged into. */
  private readonly written = new Set<string>();
  /** Host directories that contain something this layer wrote. */
  private readonly ancestors = new Set<string>();
  /** Directory mtimes, set after all entries since adding an entry changes its directory's mtime. */
  private readonly dirTimes = new Map<string, Date>();
  /** Resolved directories and directories known to exist: most entries share their parents. */
  private readonly resolver: CachedResolver;
  private readonly knownDirs = new Set<string>();

  constructor(
    private readonly rootfs: Rootfs,
    private readonly opts: LayerWriterOptions,
  ) {
    this.resolver = new CachedResolver(rootfs);
  }

  /** Applies one entry. `body` must be consumed by the caller when this returns without reading it. */
  async apply(h: TarHeader, body: AsyncIterable<unknown>): Promise<void> {
    const imagePath = imagePathOfEntryName(h.name);
    if (imagePath === undefined) throw this.unsafe(h.name, 'its path climbs above the root');
    if (baseName(imagePath).startsWith(WHITEOUT_PREFIX)) return this.whiteout(imagePath, h.name);
    const type = h.type ?? 'file';
    if (imagePath === '/') {
      if (type !== 'directory') throw this.unsafe(h.name, `the root cannot be a ${type}`);
      return this.fs(`setting metadata of / from ${h.name}`, () => this.setMeta(this.rootfs.root, h, 'dir'));
    }
    const host = await this.resolver.resolve(imagePath);
    await this.fs(`extracting ${imagePath}`, async () => {
      await this.clear(host, type === 'directory');
      const parent = dirname(host);
      if (!this.knownDirs.has(parent)) {
        await mkdir(parent, { recursive: true });
        this.knownDirs.add(parent);
      }
    });
    switch (type) {
      case 'directory':
        await this.fs(`extracting ${imagePath}`, async () => {
          await mkdir(host, { mode: 0o700 }).catch((err: unknown) => {
            if (errnoCode(err) !== 'EEXIST') throw err;
          });
          await this.setMeta(host, h, 'dir');
        });
        this.knownDirs.add(host);
        break;
      case 'file':
      case 'contiguous-file':
        await this.fs(`writing ${imagePath}`, () => this.writeFile(host, h, body));
        break;
      case 'symlink':
        await this.fs(`creating symlink ${imagePath}`, async () => {
          await symlink(h.linkname ?? '', host);
          this.forget(); // cached resolutions through this name are stale now
          await this.setMeta(host, h, 'symlink');
        });
        break;
      case 'link': {
        const target = imagePathOfEntryName(h.linkname ?? '');
        if (target === undefined || target === '/') throw this.unsafe(h.name, `its hardlink target "${h.linkname ?? ''}" is outside the root`);
        const targetHost = await this.resolver.resolve(target);
        // A hardlink shares the target's inode and so its metadata: nothing more to set.
        await this.fs(`linking ${imagePath} to ${target}`, () => link(targetHost, host));
        // link(2) of a symlink makes another symlink: cached resolutions through this name are stale.
        this.forget();
        break;
      }
      default: {
        const kind = SPECIAL[type];
        if (kind === undefined || !this.opts.mknod) {
          this.opts.logger.warn(`skipping ${type} ${imagePath} in layer ${this.opts.layerName}: not supported yet`);
          return;
        }
        const make = this.opts.mknod;
        await this.fs(`creating ${type} ${imagePath}`, async () => {
          try {
            await make(host, kind, { major: h.devmajor ?? 0, minor: h.devminor ?? 0 });
          } catch (err) {
            // Whatever the hook throws is about the local system, never about the layer.
            throw err instanceof BuildError ? err : fsError(`layer ${this.opts.layerName}: creating ${type} ${imagePath}`, err);
          }
          await this.setMeta(host, h, 'file');
        });
      }
    }
    this.markWritten(host);
  }

  /**
   * Writes a regular file chunk by chunk through one file handle (measured: about twice as fast
   * per small file as a write stream), and sets its metadata on that same inode: O_EXCL never
   * follows a symlink put at `host`, and fchown/fchmod cannot be redirected by a later rename.
   * tar-stream's entry is iterated directly: it is a streamx stream, and node's pipeline waits
   * forever on one that was destroyed (truncated tar) before it was attached.
   */
  private async writeFile(host: string, h: TarHeader, body: AsyncIterable<unknown>): Promise<void> {
    const fh = await open(host, 'wx', 0o600);
    try {
      for await (const chunk of body) {
        this.opts.signal?.throwIfAborted();
        if (!(chunk instanceof Uint8Array)) throw new Error('tar entry produced a non-binary chunk');
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      const { uid, gid } = entryOwner(h);
      await fh.chown(uid, gid);
      await fh.chmod(entryMode(h)); // after chown, which clears setuid/setgid
      const mtime = entryMtime(h);
      await fh.utimes(mtime, mtime);
    } finally {
      await fh.close();
    }
  }

  /** Sets the deferred directory mtimes; call once after the last entry. */
  async finish(): Promise<void> {
    for (const [host, mtime] of this.dirTimes) {
      await lutimes(host, mtime, mtime).catch((err: unknown) => {
        // A directory removed later in the same layer has no time to set.
        if (errnoCode(err) !== 'ENOENT') throw fsError(`setting mtime of ${this.rootfs.imagePathOf(host)}`, err);
      });
    }
  }

  private async whiteout(imagePath: string, name: string): Promise<void> {
    const base = baseName(imagePath);
    // The marker's directory, with symlinks among its parents resolved inside the root.
    const hostDir = dirname(await this.resolver.resolve(imagePath));
    if (base === OPAQUE_MARKER) {
      await this.fs(`applying opaque whiteout ${name}`, () => this.removeLowerChildren(hostDir));
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      // Other `.wh..wh.` names are AUFS bookkeeping (e.g. `.wh..wh.plnk`); Docker skips them too.
      this.opts.logger.debug(`ignoring AUFS metadata entry ${name} in layer ${this.opts.layerName}`);
      return;
    }
    const target = base.slice(WHITEOUT_PREFIX.length);
    if (target === '' || target === '.' || target === '..') throw this.unsafe(name, 'it is a whiteout of no name');
    await this.fs(`applying whiteout ${name}`, () => this.removeLower(join(hostDir, target)));
  }

  /** Removes what lower layers put at `host`, sparing what this layer wrote there. */
  private async removeLower(host: string): Promise<void> {
    if (!this.written.has(host) && !this.ancestors.has(host)) {
      this.forget();
      await rm(host, { recursive: true, force: true });
      return;
    }
    await this.removeLowerChildren(host);
  }

  private async removeLowerChildren(hostDir: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(hostDir);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const name of names) await this.removeLower(join(hostDir, name));
  }

  /** Makes room for an entry: anything but a directory under a directory entry is removed (rm never follows symlinks). */
  private async clear(host: string, entryIsDir: boolean): Promise<void> {
    let isDir: boolean;
    try {
      isDir = (await lstat(host)).isDirectory();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    if (entryIsDir && isDir) return;
    this.forget();
    await rm(host, { recursive: true, force: true });
  }

  /** Drops cached resolutions and known directories after a removal or a new symlink. */
  private forget(): void {
    this.resolver.clear();
    this.knownDirs.clear();
  }

  /** Ownership, then mode (chown(2) clears setuid/setgid, so chmod must come after), then times. */
  private async setMeta(host: string, h: TarHeader, kind: 'dir' | 'file' | 'symlink'): Promise<void> {
    const { uid, gid } = entryOwner(h);
    await lchown(host, uid, gid);
    // Linux has no lchmod: a symlink's own mode is always 0777 and meaningless.
    if (kind !== 'symlink') await chmod(host, entryMode(h));
    const mtime = entryMtime(h);
    if (kind === 'dir') this.dirTimes.set(host, mtime);
    else await lutimes(host, mtime, mtime);
  }

  private markWritten(host: string): void {
    this.written.add(host);
    for (let d = dirname(host); d !== this.rootfs.root && !this.ancestors.has(d); d = dirname(d)) {
      this.ancestors.add(d);
      if (d === dirname(d)) break;
    }
  }

  private unsafe(name: string, why: string): IntegrityError {
    return new IntegrityError(`layer ${this.opts.layerName}: unsafe tar entry "${name}": ${why}`);
  }

  /** Runs a filesystem operation, turning OS errors into FilesystemError saying what was done. */
  private async fs<T>(doing: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw isSystemError(err) ? fsError(`layer ${this.opts.layerName}: ${doing}`, err) : err;
    }
  }
}
