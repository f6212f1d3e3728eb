/**
 * Applies tar entries of one layer to a rootfs, the way Docker/containerd apply layers (moby
 * pkg/archive/diff.go UnpackLayer; OCI image spec layer.md "Applying Changesets"): an existing
 * path is replaced unless both it and the entry are directories (then only metadata changes),
 * whiteouts remove content of lower layers only, directory mtimes are set last.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildError, errnoCode, fsError, IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import { baseName, imagePathOfEntryName } from '../rootfs/image-path.js';
import type { Rootfs } from '../rootfs/rootfs.js';
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

  constructor(
    private readonly rootfs: Rootfs,
    private readonly opts: LayerWriterOptions,
  ) {}

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
    const host = await this.rootfs.resolve(imagePath);
    await this.fs(`extracting ${imagePath}`, async () => {
      await this.clear(host, type === 'directory');
      await mkdir(dirname(host), { recursive: true });
    });
    switch (type) {
      case 'directory':
        await this.fs(`extracting ${imagePath}`, async () => {
          await mkdir(host, { mode: 0o700 }).catch((err: unknown) => {
            if (errnoCode(err) !== 'EEXIST') throw err;
          });
          await this.setMeta(host, h, 'dir');
        });
        break;
      case 'file':
      case 'contiguous-file':
        await this.fs(`writing ${imagePath}`, async () => {
          const out = createWriteStream(host, { flags: 'wx', mode: 0o600 });
          // Through Readable.from: tar-stream's entries are streamx streams, and node's pipeline
          // waits forever on one that was destroyed (truncated tar) before it was attached.
          await pipeline(Readable.from(body, { objectMode: false }), out, this.opts.signal ? { signal: this.opts.signal } : {});
          await this.setMeta(host, h, 'file');
        });
        break;
      case 'symlink':
        await this.fs(`creating symlink ${imagePath}`, async () => {
          await symlink(h.linkname ?? '', host);
          await this.setMeta(host, h, 'symlink');
        });
        break;
      case 'link': {
        const target = imagePathOfEntryName(h.linkname ?? '');
        if (target === undefined || target === '/') throw this.unsafe(h.name, `its hardlink target "${h.linkname ?? ''}" is outside the root`);
        const targetHost = await this.rootfs.resolve(target);
        // A hardlink shares the target's inode and so its metadata: nothing more to set.
        await this.fs(`linking ${imagePath} to ${target}`, () => link(targetHost, host));
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
    const hostDir = dirname(await this.rootfs.resolve(imagePath));
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
    await rm(host, { recursive: true, force: true });
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
