/**
 * Copies host files (a build context, an earlier stage) into the rootfs for COPY, with Docker's
 * metadata rules: owner from `--chown` (root by default), permissions from the source unless
 * `--chmod`, modification times kept. Symlinks are copied as symlinks. File data moves with
 * `copyFile` (copy_file_range in the kernel), never through memory.
 */
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import { mkdirAll, type Owner } from './mkdir.js';
import type { Rootfs } from './rootfs.js';

export interface CopyInOptions {
  /** Owner of everything copied; undefined keeps the source's (COPY --from without --chown). */
  owner?: Owner;
  /** Permission bits for every copied file and directory (`--chmod`), instead of the source's. */
  mode?: number;
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function setMeta(host: string, st: Stats, opts: CopyInOptions): Promise<void> {
  await lchown(host, opts.owner?.uid ?? st.uid, opts.owner?.gid ?? st.gid);
  // chmod after chown: chown clears setuid/setgid bits.
  if (!st.isSymbolicLink()) await chmod(host, opts.mode ?? st.mode & 0o7777);
  await lutimes(host, st.atime, st.mtime);
}

/** Copies one non-directory (file or symlink) to exactly `dest`, replacing what is there. */
async function copyLeaf(rootfs: Rootfs, src: string, st: Stats, dest: string, opts: CopyInOptions, written: string[]): Promise<void> {
  written.push(...(await mkdirAll(rootfs, posix.dirname(dest))));
  const host = await rootfs.resolve(dest);
  const existing = await lstatOrUndefined(host);
  if (existing) await rm(host, { recursive: existing.isDirectory(), force: true });
  if (st.isSymbolicLink()) await symlink(await readlink(src), host);
  else await copyFile(src, host);
  await setMeta(host, st, opts);
  written.push(dest);
}

/** Copies a directory's contents into `dest` (created when missing), depth first, sorted. */
async function copyTree(rootfs: Rootfs, src: string, dest: string, opts: CopyInOptions, written: string[]): Promise<void> {
  const names = (await readdir(src)).sort();
  for (const name of names) {
    const s = join(src, name);
    const d = posix.join(dest, name);
    const st = await lstat(s);
    if (st.isDirectory()) {
      const host = await rootfs.resolve(d);
      const existing = await lstatOrUndefined(host);
      if (existing && !existing.isDirectory()) await rm(host, { force: true });
      if (!existing?.isDirectory()) await mkdir(host);
      written.push(d);
      await copyTree(rootfs, s, d, opts, written);
      // Directory times last: writing children changes them.
      await setMeta(host, st, opts);
    } else if (st.isFile() || st.isSymbolicLink()) {
      await copyLeaf(rootfs, s, st, d, opts, written);
    }
    // Sockets, fifos and devices in a build context are skipped, as Docker does.
  }
}

/**
 * Copies host path `src` to image path `dest`: a file or symlink becomes `dest` itself; a
 * directory's contents go into `dest`. Returns every image path written, parents included.
 */
export async function copyIntoRootfs(rootfs: Rootfs, src: string, dest: string, opts: CopyInOptions): Promise<string[]> {
  const written: string[] = [];
  try {
    const st = await lstat(src);
    if (st.isDirectory()) {
      written.push(...(await mkdirAll(rootfs, dest, opts.owner ?? { uid: 0, gid: 0 })));
      await copyTree(rootfs, src, dest, opts, written);
    } else {
      await copyLeaf(rootfs, src, st, dest, opts, written);
    }
  } catch (err) {
    throw fsError(`copying ${src} to ${dest}`, err);
  }
  return written;
}

/** Whether an image path exists and is a directory (following symlinks inside the rootfs). */
export async function isDirectoryInRootfs(rootfs: Rootfs, imagePath: string): Promise<boolean> {
  const st = await lstatOrUndefined(await rootfs.resolve(imagePath, { followFinal: true }));
  return st?.isDirectory() ?? false;
}
