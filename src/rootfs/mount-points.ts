/**
 * Mount points a RUN needs inside the rootfs (/dev, /proc, /sys, /etc/resolv.conf, /etc/hosts), and
 * those of its `RUN --mount` targets ({@link MountTargets}).
 * A missing directory is created for the run and removed afterwards, so it never shows up in a
 * snapshot; a path that is a symlink (or anything but the expected type) is not mounted on,
 * since a hostile image could point it anywhere.
 */
import { lstat, mkdir, rmdir, unlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import { mkdirAll } from './mkdir.js';
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

/** Nothing to mount: an in-place rootfs (the process's own `/`) already has the real ones. */
const IN_PLACE: PreparedMounts = {
  plan: { dev: false, proc: false, sys: false, resolvConf: false, hosts: false },
  cleanup: () => Promise.resolve(),
};

/**
 * Prepares the mount points of the rootfs for one RUN. In place (`--rootfs=/`) the rootfs's
 * /dev, /proc, /sys, /etc/resolv.conf and /etc/hosts are the container's own, so the plan is all
 * off: binding them onto themselves would at best do nothing.
 */
export async function prepareMountPoints(rootfs: Rootfs): Promise<PreparedMounts> {
  if (rootfs.root === '/') return IN_PLACE;
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

/** What a mount needs at its target: a directory (directory sources, tmpfs) or a regular file (file sources, secrets). */
export type MountPointKind = 'dir' | 'file';

/**
 * Mount points for `RUN --mount` targets in one rootfs (or in a mount source, for nested
 * targets). Symlinks on the way are resolved inside the root as a chroot would; a target that
 * is itself a symlink, or of the wrong type, is refused. What is created here (the target and its
 * missing parents) is removed by {@link MountTargets.cleanup} once the step is over — before the
 * snapshot — so a mount point never appears in a layer, while content the step wrote into a
 * created parent stays (it is the step's output).
 */
export class MountTargets {
  /** Host paths created, in creation order. */
  private readonly created: { host: string; kind: MountPointKind }[] = [];

  constructor(private readonly rootfs: Rootfs) {}

  /**
   * Makes `imagePath` ready to be mounted on and returns its host path (free of symlinks), or an
   * error message. With `create: false` nothing is made: the target must exist already (a
   * target inside a read-only source).
   */
  async prepare(imagePath: string, kind: MountPointKind, create: boolean): Promise<{ host: string } | { error: string }> {
    const parent = posix.dirname(imagePath);
    if (create) {
      for (const made of await mkdirAll(this.rootfs, parent)) {
        this.created.push({ host: await this.rootfs.resolve(made), kind: 'dir' });
      }
    } else if ((await kindOf(await this.rootfs.resolve(parent, { followFinal: true }))) !== 'dir') {
      return { error: `${parent} is not a directory` };
    }
    const host = await this.rootfs.resolve(imagePath);
    const found = await kindOf(host);
    if (found === kind) return { host };
    if (found !== 'missing') return { error: `${imagePath} is ${found === 'other' ? 'a symlink or special file' : `a ${found === 'dir' ? 'directory' : 'file'}`}, and the mount needs a ${kind === 'dir' ? 'directory' : 'file'} there` };
    if (!create) return { error: `${imagePath} does not exist` };
    try {
      if (kind === 'dir') await mkdir(host, { mode: 0o755 });
      else await writeFile(host, '', { mode: 0o644, flag: 'wx' });
    } catch (err) {
      throw fsError(`creating mount point ${imagePath}`, err);
    }
    this.created.push({ host, kind });
    return { host };
  }

  /** Removes what {@link prepare} created, deepest first; directories the step filled are kept. */
  async cleanup(): Promise<void> {
    for (const { host, kind } of this.created.splice(0).reverse()) {
      await (kind === 'dir' ? rmdir(host) : unlink(host)).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'ENOENT') throw fsError(`removing mount point ${host}`, err);
      });
    }
  }
}
