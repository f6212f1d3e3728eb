/**
 * Copies host files (the build context, an earlier stage, a git checkout) and streams (heredocs,
 * downloads) into the rootfs for COPY and ADD, with BuildKit's metadata rules (tonistiigi/fsutil
 * copy): owner from `--chown` (kept from the source when the caller passes none), permissions
 * from the source unless `--chmod`, modification times kept; missing parents of the destination
 * made 0755 with the `--chown` owner, and so is a directory source's destination when it is made
 * here (its entries, subdirectories included, keep their sources' metadata); symlinks copied as
 * symlinks; files hardlinked together in the source hardlinked together in the copy; FIFOs and
 * device nodes made as what they are when the caller can make them (COPY --from, as fsutil's copy
 * does), never opened — opening a FIFO blocks and a device never ends. File data moves with
 * `copyFile` (copy_file_range), never through memory. Every path is mapped through {@link Rootfs.resolve}.
 */
import { chmod, copyFile, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink } from './host-fs.js';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, fsError, StepError } from '../errors.js';
import { mkdirAll, type Owner } from './mkdir.js';
import type { Rootfs } from './rootfs.js';

/** Kinds of special files a copy recreates. */
export type SpecialKind = 'fifo' | 'char' | 'block';

/**
 * Creates a FIFO or device node at a host path (Node has no mknod(2)); metadata is set
 * afterwards. Resolves 'not-permitted' where the system forbids it: the entry is then left out.
 */
export type SpecialMaker = (
  hostPath: string,
  kind: SpecialKind,
  dev: { major: number; minor: number },
) => Promise<void | 'not-permitted'>;

/** The permission bits a copied entry gets from its source's (`--chmod`, octal or symbolic). */
export type ModeFn = (sourceMode: number, isDir: boolean) => number;

/** What a copy does with one entry below the source (see context/path-filter.ts). */
export type Selector = (rel: string, isDir: boolean) => 'include' | 'exclude' | 'descend';

export interface CopyInOptions {
  /** Owner of everything copied and of the parents made; undefined keeps the source's (COPY --from without --chown). */
  owner?: Owner;
  /** Permission bits from the source's; undefined keeps them. */
  mode?: ModeFn;
  /** mtime of everything copied instead of the source's (git checkouts). */
  mtime?: Date;
  /**
   * Mode of a directory source's destination when it is made here; default 0755. An octal
   * `--chmod` gives its bits (BuildKit's fsutil copy makes it with `MkdirAll(dest, mode)`).
   */
  newDirMode?: number;
  /** Filters entries below a directory source by their path relative to it (.dockerignore, --exclude). */
  select?: Selector;
  /** Inode (`dev:ino`) → image path already copied in this instruction, to keep hardlinks. */
  links?: Map<string, string>;
  /**
   * The sources are the build's own, and nothing reads them after this copy (a fetched context
   * at its last reader, executor/stage.ts): a regular file with no other name is linked into the
   * rootfs instead of copied, so the file is not created twice, and its metadata is then set on
   * that one inode. A source on another filesystem is copied.
   */
  takeSources?: boolean;
  /**
   * The source is the build context's root, which in BuildKit is a directory of its own, not the
   * client's: the destination does not take its mtime.
   */
  plainTop?: boolean;
  /**
   * Makes FIFOs and device nodes of the source as what they are (COPY --from). Without it they
   * are skipped, as Docker skips them in a build context. Sockets are always skipped.
   */
  special?: SpecialMaker;
}

function specialKind(st: Stats): SpecialKind | undefined {
  return st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : undefined;
}

/** Whether a non-directory is copied at all: files and symlinks always, FIFOs and devices when they can be made. */
function copiesLeaf(st: Stats, opts: CopyInOptions): boolean {
  return st.isFile() || st.isSymbolicLink() || (specialKind(st) !== undefined && opts.special !== undefined);
}

/** Linux's dev_t encoding (glibc `gnu_dev_major`/`gnu_dev_minor`), as layers/pack.ts reads it. */
function deviceNumbers(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  return {
    major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & 0xfffff000n)),
    minor: Number((r & 0xffn) | ((r >> 12n) & 0xffffff00n)),
  };
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function setMeta(rootfs: Rootfs, host: string, st: Stats, opts: CopyInOptions): Promise<void> {
  await rootfs.ownership.set(host, opts.owner ?? { uid: st.uid, gid: st.gid });
  // chmod after chown: chown clears setuid/setgid bits. Linux has no lchmod.
  if (!st.isSymbolicLink())
    await chmod(host, opts.mode ? opts.mode(st.mode & 0o7777, st.isDirectory()) : st.mode & 0o7777);
  const mtime = opts.mtime ?? st.mtime;
  await lutimes(host, mtime, mtime);
}

/** Makes room for a non-directory at `host`: an existing directory there is an error (BuildKit), anything else goes. */
async function clearForLeaf(host: string, dest: string): Promise<void> {
  const existing = await lstatOrUndefined(host);
  if (existing?.isDirectory()) throw new StepError(`cannot replace directory ${dest} with a file`);
  if (existing) await rm(host, { force: true });
}

/** One {@link copyIntoRootfs} call: the rootfs it writes to, how, and the image paths written so far. */
interface CopyRun {
  rootfs: Rootfs;
  opts: CopyInOptions;
  written: string[];
}

/** Copies one non-directory (file, symlink, FIFO or device) to exactly `dest`, whose parent exists; skips what {@link copiesLeaf} leaves out. */
async function copyLeaf(run: CopyRun, src: string, st: Stats, dest: string): Promise<void> {
  const { rootfs, opts, written } = run;
  if (!copiesLeaf(st, opts)) return;
  const host = await rootfs.resolve(dest);
  await clearForLeaf(host, dest);
  const key = `${st.dev}:${st.ino}`;
  const first = st.isFile() && st.nlink > 1 ? opts.links?.get(key) : undefined;
  const kind = specialKind(st);
  if (first !== undefined) {
    await link(await rootfs.resolve(first), host);
  } else {
    if (st.isSymbolicLink()) await symlink(await readlink(src), host);
    else if (kind && opts.special) {
      if ((await opts.special(host, kind, deviceNumbers(st.rdev))) === 'not-permitted') return;
    } else if (!(opts.takeSources === true && st.isFile() && st.nlink === 1 && (await linked(src, host))))
      await copyFile(src, host);
    await setMeta(rootfs, host, st, opts);
    if (st.isFile() && st.nlink > 1) opts.links?.set(key, dest);
  }
  written.push(dest);
}

/** Links `src` at `host`; false where the system cannot (another filesystem, a link count at its limit). */
async function linked(src: string, host: string): Promise<boolean> {
  try {
    await link(src, host);
    return true;
  } catch (err) {
    if (['EXDEV', 'EMLINK', 'EPERM'].includes(errnoCode(err) ?? '')) return false;
    throw err;
  }
}

/** Creates directory `dest` like `st` (when missing: `true`), or takes over an existing one (`false`). */
async function makeDir(rootfs: Rootfs, dest: string): Promise<boolean> {
  const host = await rootfs.resolve(dest);
  const existing = await lstatOrUndefined(host);
  if (existing?.isDirectory()) return false;
  if (existing) await rm(host, { force: true });
  await mkdir(host, { mode: 0o700 });
  return true;
}

/** A directory {@link copyTree} copies: host `src` into image path `dest`; `rel` is its path as the selector sees it (`''` at the top). */
interface TreeDir {
  src: string;
  dest: string;
  rel: string;
  ensureDest: () => Promise<void>;
}

/**
 * Copies a directory's entries into `dir.dest`, depth first, sorted. `dir.ensureDest` makes
 * `dir.dest` on first use, so a directory the selector only descends into appears only if
 * something below it is copied. Directory metadata is set after the children (writing them
 * changes the times).
 */
async function copyTree(run: CopyRun, dir: TreeDir): Promise<void> {
  const { rootfs, opts, written } = run;
  const { src, dest, rel, ensureDest } = dir;
  for (const name of (await readdir(src)).sort()) {
    const s = join(src, name);
    const d = posix.join(dest, name);
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(s);
    const verdict = opts.select ? opts.select(r, st.isDirectory()) : 'include';
    if (verdict === 'exclude') continue;
    if (st.isDirectory()) {
      let made = false;
      const ensure = async (): Promise<void> => {
        if (made) return;
        await ensureDest();
        await makeDir(rootfs, d);
        written.push(d);
        made = true;
      };
      if (verdict === 'include') await ensure();
      await copyTree(run, { src: s, dest: d, rel: r, ensureDest: ensure });
      if (made) await setMeta(rootfs, await rootfs.resolve(d), st, opts);
    } else if (copiesLeaf(st, opts)) {
      await ensureDest();
      await copyLeaf(run, s, st, d);
    }
    // Sockets, and fifos and devices in a build context, are skipped, as Docker does.
  }
}

/**
 * Makes a directory source's missing destination `host` as BuildKit does (fsutil copy
 * `prepareTargetDir`: `MkdirAll(dest, 0755, chown)`): mode 0755 (or an octal `--chmod`), the
 * `--chown` owner or root — never the source directory's own mode or owner.
 */
async function makeDestDir(rootfs: Rootfs, host: string, opts: CopyInOptions): Promise<void> {
  await mkdir(host, { mode: 0o700 });
  await rootfs.ownership.set(host, opts.owner ?? { uid: 0, gid: 0 });
  // chmod after chown, which clears setgid; an explicit chmod, so the umask plays no part.
  await chmod(host, opts.newDirMode ?? 0o755);
}

/**
 * Copies host path `src` to image path `dest`: a file or symlink becomes `dest` itself; a
 * directory's contents go into `dest` (made by {@link makeDestDir} when missing, its mode and
 * owner kept when it exists), which then takes the source directory's mtime, as BuildKit's copy
 * restores it (`copyFileTimestamp`); the entries below keep their sources' metadata. Returns
 * every image path written, parents made included.
 */
export async function copyIntoRootfs(
  rootfs: Rootfs,
  src: string,
  dest: string,
  opts: CopyInOptions,
): Promise<string[]> {
  const written: string[] = [];
  const run: CopyRun = { rootfs, opts, written };
  const top = { src, dest, rel: '', ensureDest: () => Promise.resolve() };
  try {
    const st = await lstat(src);
    written.push(...(await mkdirAll(rootfs, posix.dirname(dest), opts.owner ?? { uid: 0, gid: 0 })));
    if (!st.isDirectory()) {
      await copyLeaf(run, src, st, dest);
      return written;
    }
    const host = await rootfs.resolve(dest, { followFinal: true });
    const existing = await lstatOrUndefined(host);
    if (existing && !existing.isDirectory())
      throw new StepError(`cannot copy a directory to ${dest}: it exists and is not a directory`);
    if (!existing) await makeDestDir(rootfs, host, opts);
    written.push(dest);
    await copyTree(run, top);
    if (!opts.plainTop) {
      const mtime = opts.mtime ?? st.mtime;
      await lutimes(host, mtime, mtime);
    }
  } catch (err) {
    throw fsError(`copying ${src} to ${dest}`, err);
  }
  return written;
}

/**
 * Makes directory `dest` (parents 0755 with the owner) with the metadata of the host directory
 * `src` if it is missing; an existing directory is kept as it is. For `COPY --parents`, whose
 * kept parent directories carry their source's metadata (fsutil createParentDirs).
 */
export async function copyDirectoryShell(
  rootfs: Rootfs,
  src: string,
  dest: string,
  opts: CopyInOptions,
): Promise<string[]> {
  try {
    const written = await mkdirAll(rootfs, posix.dirname(dest), opts.owner ?? { uid: 0, gid: 0 });
    if (!(await makeDir(rootfs, dest))) return written;
    await setMeta(rootfs, await rootfs.resolve(dest), await lstat(src), opts);
    return [...written, dest];
  } catch (err) {
    throw fsError(`creating ${dest}`, err);
  }
}

/** Metadata of a file written from a stream. */
export interface StreamedFile {
  owner: Owner;
  mode: number;
  mtime: Date;
}

/** The metadata {@link writeStreamIntoRootfs} gives the file, and the build's abort signal. */
export interface WriteStreamOptions extends StreamedFile {
  signal?: AbortSignal;
}

/**
 * Writes `content` to image path `dest` (parents made 0755 with the owner; an existing
 * non-directory replaced), streaming through one file handle, then sets owner, mode and mtime.
 * Returns the image paths written.
 */
export async function writeStreamIntoRootfs(
  rootfs: Rootfs,
  dest: string,
  content: Readable,
  opts: WriteStreamOptions,
): Promise<string[]> {
  const { signal, ...meta } = opts;
  try {
    const written = await mkdirAll(rootfs, posix.dirname(dest), meta.owner);
    const host = await rootfs.resolve(dest);
    await clearForLeaf(host, dest);
    const fh = await open(host, 'wx', 0o600);
    try {
      // Chunk by chunk through the one handle, so that the metadata below lands on this inode.
      for await (const chunk of content) {
        signal?.throwIfAborted();
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        for (let off = 0; off < bytes.length;) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      }
      await rootfs.ownership.setOpen(fh, host, meta.owner);
      await fh.chmod(meta.mode);
      await fh.utimes(meta.mtime, meta.mtime);
    } finally {
      await fh.close();
    }
    return [...written, dest];
  } catch (err) {
    throw fsError(`writing ${dest}`, err);
  }
}

/** Whether an image path exists and is a directory (following symlinks inside the rootfs). */
export async function isDirectoryInRootfs(rootfs: Rootfs, imagePath: string): Promise<boolean> {
  const st = await lstatOrUndefined(await rootfs.resolve(imagePath, { followFinal: true }));
  return st?.isDirectory() ?? false;
}
