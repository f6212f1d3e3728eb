/**
 * Mount points a RUN needs inside the rootfs (/dev, /proc, /sys, /etc/resolv.conf, /etc/hosts).
 * A missing directory is created for the run and removed afterwards, so it never shows up in a
 * snapshot; a path that is a symlink (or anything but the expected type) is not mounted on,
 * since a hostile image could point it anywhere.
 */
import { lstat, mkdir, rmdir } from 'node:fs/promises';
import { errnoCode, fsError } from '../errors.js';
import type { Rootfs } from './rootfs.js';

export interface PreparedMounts {
  plan: { dev: boolean; proc: boolean; sys: boolean; resolvConf: boolean; hosts: boolean };
  /** Removes the directories created for this run. */
  cleanup(): Promise<void>;
}

async function kindOf(hostPath: string): Promise<'dir' | 'file' | 'other' | 'missing'> {
  try {
    const st = await lstat(hostPath);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return 'missing';
    throw fsError(`inspecting ${hostPath}`, err);
  }
}

/** Prepares the mount points of the rootfs for one RUN. */
export async function prepareMountPoints(rootfs: Rootfs): Promise<PreparedMounts> {
  const created: string[] = [];
  const dir = async (imagePath: string): Promise<boolean> => {
    const host = await rootfs.resolve(imagePath);
    const kind = await kindOf(host);
    if (kind === 'dir') return true;
    if (kind !== 'missing') return false;
    try {
      await mkdir(host, { mode: 0o755 });
    } catch (err) {
      throw fsError(`creating mount point ${imagePath} in the rootfs`, err);
    }
    created.push(host);
    return true;
  };
  const file = async (imagePath: string): Promise<boolean> => (await kindOf(await rootfs.resolve(imagePath))) === 'file';
  const plan = {
    dev: await dir('/dev'),
    proc: await dir('/proc'),
    sys: await dir('/sys'),
    resolvConf: await file('/etc/resolv.conf'),
    hosts: await file('/etc/hosts'),
  };
  return {
    plan,
    async cleanup() {
      for (const host of created.reverse()) {
        await rmdir(host).catch((err: unknown) => {
          // A RUN that wrote into a directory we created keeps it: it is now the step's content.
          if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'ENOENT') throw fsError(`removing mount point ${host}`, err);
        });
      }
    },
  };
}
