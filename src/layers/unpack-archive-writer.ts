/**
 * Writes the entries of an ADD archive below its destination directory, as Docker's
 * `archive.Untar` does (moby pkg/archive Unpack, run chrooted into the destination): an existing
 * path is replaced unless both it and the entry are directories, parents missing from the
 * archive are made 0755 root, owners, modes and mtimes come from the entries. Unlike a layer
 * there are no whiteouts: a `.wh.` name is just a file. The writer works in a Rootfs rooted AT
 * the destination, so no name, symlink or hardlink can reach outside it. Extended attributes of
 * entries are not applied (Docker applies them best-effort).
 *
 * Filesystem calls are synchronous, as in the layer writer (layer-writer.ts) and for its reason:
 * a promise round trip through the thread pool costs tens of microseconds where the call costs a
 * few, and an archive of small files is nearly all such calls (a 20,000-file context archive
 * unpacked in 14 s asynchronously; see BENCHMARKS.md "Remote contexts").
 */
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, writeSync } from 'node:fs';
import {
  chmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
} from '../rootfs/host-fs.js';
import { dirname } from 'node:path';
import { errnoCode, fsError, IntegrityError, isSystemError } from '../errors.js';
import type { Logger } from '../log.js';
import { imagePathOfEntryName } from '../rootfs/image-path.js';
import { ENTRY_ERRNOS } from './extract.js';
import { DeferredTimes } from '../rootfs/pinned-path.js';
import { CachedResolver, UnsafePathError, type Rootfs } from '../rootfs/rootfs.js';
import type { TarEntry } from './tar-read.js';

/** Options of {@link ArchiveWriter}. */
export interface ArchiveWriterOptions {
  /** Names the archive in errors and warnings. */
  archiveName: string;
  /** What messages start with; default `ADD <archiveName>` (a build context names itself). */
  subject?: string;
  /** Refuse absolute names and escaping symlinks instead of clamping them (unpack-archive.ts). */
  confined?: boolean;
  /** Told of each entry once it is written: its path below the destination, and whether it is a regular file. */
  onEntry?: (path: string, isFile: boolean) => void;
  logger: Logger;
  signal?: AbortSignal;
}

const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

/** The state of one archive's extraction. */
export class ArchiveWriter {
  /** Host paths written (entries and the parents made for them), in order. */
  readonly written: string[] = [];
  private readonly resolver: CachedResolver;
  /** Set last, each on the directory it was read for (a later entry may turn a parent into a symlink). */
  private readonly dirTimes = new DeferredTimes();

  /** `dest` is a Rootfs rooted at the (existing) destination directory. */
  constructor(
    private readonly dest: Rootfs,
    private readonly opts: ArchiveWriterOptions,
  ) {
    // A context archive (confined) is resolved as a base layer is, strictly, and an absolute
    // symlink target counts as leaving too: the destination is a directory of the host.
    this.resolver = new CachedResolver(dest, opts.confined === true ? { strict: true, confined: true } : {});
  }

  private get subject(): string {
    return this.opts.subject ?? `ADD ${this.opts.archiveName}`;
  }

  /** Applies one entry; the caller drains `body` when this returns without reading it. */
  async apply(h: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    // Docker's Untar strips a leading '/'; a context archive is refused for it, as a base layer is.
    if (this.opts.confined === true && h.name.startsWith('/')) throw this.unsafe(h.name, 'its name is absolute');
    const rel = imagePathOfEntryName(h.name);
    if (rel === undefined) throw this.unsafe(h.name, 'its path climbs out of the destination');
    const type = h.type;
    if (rel === '/') {
      // `./` sets the destination's own metadata, as Docker's Untar does.
      if (type === 'directory')
        await this.fs(`setting metadata of the destination from ${h.name}`, () =>
          this.setMeta(this.dest.root, h, 'dir'),
        );
      return;
    }
    // GNU tar writes a file it meets twice (`tar -c Dockerfile .`) the second time as a hardlink to
    // itself: replacing it would remove the very file to link to. It is there already.
    if (type === 'link' && imagePathOfEntryName(h.linkname) === rel) return;
    const host = await this.resolve(rel, h.name);
    await this.fs(`extracting ${rel}`, () => {
      this.clear(host, type === 'directory');
      this.makeParents(dirname(host));
    });
    switch (type) {
      case 'directory':
        await this.fs(`extracting ${rel}`, () => {
          try {
            mkdirSync(host, 0o700);
          } catch (err) {
            if (errnoCode(err) !== 'EEXIST') throw err;
          }
          this.setMeta(host, h, 'dir');
        });
        break;
      case 'file':
        await this.fs(`writing ${rel}`, () => this.writeFile(host, h, body));
        break;
      case 'symlink':
        await this.fs(`creating symlink ${rel}`, () => {
          symlinkSync(h.linkname, host);
          this.resolver.clear();
          this.setMeta(host, h, 'symlink');
        });
        break;
      case 'link': {
        const target = imagePathOfEntryName(h.linkname);
        if (target === undefined || target === '/')
          throw this.unsafe(h.name, `its hardlink target "${h.linkname}" is outside the destination`);
        const targetHost = await this.resolve(target, h.name);
        await this.fs(`linking ${rel} to ${target}`, () => linkSync(targetHost, host));
        this.resolver.clear();
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo':
      case 'other':
        this.opts.logger.warn(
          `${this.subject}: skipping ${type === 'other' ? `entry type '${h.typeflag}'` : type} ${rel}: not supported`,
        );
        return;
    }
    this.written.push(host);
    this.opts.onEntry?.(rel, type === 'file');
  }

  /** Sets directory mtimes, deferred because writing entries changes them; call after the last entry. */
  async finish(): Promise<void> {
    // The resolver is current: every removal and new link cleared it. A confined one would refuse
    // a directory since replaced by an escaping symlink; clamped, the lookup stays inside the
    // destination and finds that the pinned directory is gone.
    const resolver = this.opts.confined === true ? new CachedResolver(this.dest) : this.resolver;
    await this.dirTimes.apply(resolver, this.subject);
  }

  /** Chunk by chunk through one handle opened O_EXCL (never follows a symlink put there), metadata on that inode. */
  private async writeFile(host: string, h: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const fd = openSync(host, CREATE_FILE, 0o600);
    try {
      for await (const chunk of body) {
        this.opts.signal?.throwIfAborted();
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
      futimesSync(fd, h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Anything but a directory under a directory entry is removed first (rm never follows symlinks). */
  private clear(host: string, entryIsDir: boolean): void {
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st === undefined || (entryIsDir && st.isDirectory())) return;
    this.resolver.clear();
    rmSync(host, { recursive: true, force: true });
  }

  /** Parents the archive does not list: 0755, root, as Docker's Untar makes them. */
  private makeParents(hostDir: string): void {
    const missing: string[] = [];
    for (let d = hostDir; d !== this.dest.root && d.startsWith(this.dest.root); d = dirname(d)) {
      if (lstatSync(d, { throwIfNoEntry: false }) !== undefined) break;
      missing.unshift(d);
    }
    for (const d of missing) {
      mkdirSync(d);
      lchownSync(d, 0, 0);
      chmodSync(d, 0o755);
      this.written.push(d);
    }
  }

  /** Owner, then mode (chown clears setuid/setgid), then times (directories at the end). */
  private setMeta(host: string, h: TarEntry, kind: 'dir' | 'file' | 'symlink'): void {
    lchownSync(host, h.uid, h.gid);
    if (kind !== 'symlink') chmodSync(host, h.mode);
    if (kind === 'dir') this.dirTimes.set(this.dest.imagePathOf(host), lstatSync(host), h.mtime);
    else lutimesSync(host, h.mtime, h.mtime);
  }

  /** The host path of an entry's image path; one that must leave the destination (confined) is refused. */
  private async resolve(imagePath: string, name: string): Promise<string> {
    try {
      return await this.resolver.resolve(imagePath);
    } catch (err) {
      if (err instanceof UnsafePathError) throw this.unsafe(name, err.message);
      throw err;
    }
  }

  private unsafe(name: string, why: string): IntegrityError {
    return new IntegrityError(`${this.subject}: unsafe archive entry "${name}": ${why}`);
  }

  private async fs<T>(doing: string, op: () => T | Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      // Only the OS's own errors (ENOSPC, EACCES…) are about the filesystem; anything else came
      // from the tar stream feeding the body and is left for unpackArchive to report.
      if (!isSystemError(err)) throw err;
      const failure = fsError(`${this.subject}: ${doing}`, err);
      // A context archive's entry the kernel refuses for what it is (a link to a name never
      // written, a name too long…) is the archive's fault, as for a base layer (extract.ts).
      const code = errnoCode(err);
      if (this.opts.confined === true && code !== undefined && ENTRY_ERRNOS.has(code))
        throw new IntegrityError(failure.message, { cause: err });
      throw failure;
    }
  }
}
