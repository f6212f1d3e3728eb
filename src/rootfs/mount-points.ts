/**
 * Mount points a RUN needs inside the rootfs (/dev, /proc, /sys, /etc/resolv.conf, /etc/hosts,
 * /etc/hostname), and those of its `RUN --mount` targets ({@link MountTargets}).
 * A missing directory is created for the run and removed afterwards, so it never shows up in a
 * snapshot; a path that is a symlink (or anything but the expected type) is not mounted on,
 * since a hostile image could point it anywhere. What was created is pinned (pinned-path.ts)
 * and removed only if the step left it where it was: a step that swapped a parent for a symlink
 * must not make Kiln remove whatever that symlink names on the host.
 */
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoCode, fsError, StepError } from '../errors.js';
import { mkdirAll } from './mkdir.js';
import { pin, removePinned, type PinnedPath } from './pinned-path.js';
import type { Rootfs } from './rootfs.js';

export interface PreparedMounts {
  plan: { dev: boolean; proc: boolean; sys: boolean; resolvConf: boolean; hosts: boolean; hostname: boolean };
  /** Directories (canonical image paths) other than `/` in which a mount point was made and removed. */
  touchedDirs(): string[];
  /** Removes the directories and files created for this run. */
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

/** Pins what was just created at `imagePath`, for {@link removeCreated}. */
async function pinCreated(rootfs: Rootfs, imagePath: string, created: PinnedPath[]): Promise<void> {
  const made = await pin(rootfs, imagePath);
  if (made) created.push(made);
}

/**
 * Removes what was created, deepest first, each only if it is still the inode made (pinned-path.ts).
 * A directory the step wrote into stays (it is now the step's content), and so does anything
 * the step moved or replaced: never act on what is there now.
 */
async function removeCreated(rootfs: Rootfs, created: PinnedPath[]): Promise<void> {
  for (const made of created.splice(0).reverse()) {
    try {
      await removePinned(rootfs, made);
    } catch (err) {
      throw fsError(`removing mount point ${made.imagePath}`, err);
    }
  }
}

/** Nothing to mount: an in-place rootfs (the process's own `/`) already has the real ones. */
const IN_PLACE: PreparedMounts = {
  plan: { dev: false, proc: false, sys: false, resolvConf: false, hosts: false, hostname: false },
  touchedDirs: () => [],
  cleanup: () => Promise.resolve(),
};

/** The files of /etc a step gets from the host (Docker binds the same three): the plan's key for each. */
const ETC_FILES = [
  ['/etc/resolv.conf', 'resolvConf'],
  ['/etc/hosts', 'hosts'],
  ['/etc/hostname', 'hostname'],
] as const;

/**
 * Prepares the mount points of the rootfs for one RUN. In place (`--rootfs=/`) the rootfs's
 * /dev, /proc, /sys, /etc/resolv.conf and /etc/hosts are the container's own, so the plan is all
 * off: binding them onto themselves would at best do nothing.
 *
 * With `etcFiles` (a runner that binds the host's files, runc) a missing /etc/resolv.conf,
 * /etc/hosts or /etc/hostname — and /etc itself — is made empty for the step and removed after,
 * as the directories are: an image without them (busybox, scratch) gets the host's all the same,
 * as under Docker, and its layer none of them. Where one is a symlink, the file it names inside
 * the rootfs is the mount point (made likewise if missing); a directory there is not mounted on.
 */
export async function prepareMountPoints(rootfs: Rootfs, opts: { etcFiles?: boolean } = {}): Promise<PreparedMounts> {
  if (rootfs.root === '/') return IN_PLACE;
  const created: PinnedPath[] = [];
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
    await pinCreated(rootfs, imagePath, created);
    return true;
  };
  const files = new MountTargets(rootfs);
  const file = async (imagePath: string): Promise<boolean> => {
    const host = await rootfs.resolve(imagePath);
    if (!opts.etcFiles) return (await kindOf(host)) === 'file';
    // runc follows a symlink at a mount destination inside the rootfs (securejoin), as Docker's
    // bind over a symlinked /etc/resolv.conf does: the file it names is the mount point then.
    const link = (await lstat(host).catch(() => undefined))?.isSymbolicLink() === true;
    let at = imagePath;
    try {
      if (link) at = rootfs.imagePathOf(await rootfs.resolve(imagePath, { followFinal: true }));
      if (['/dev', '/proc', '/sys'].some((d) => at === d || at.startsWith(`${d}/`))) return false;
      return 'host' in (await files.prepare(at, 'file', true));
    } catch (err) {
      // /etc (or a directory on the symlink's way) is a file or the like, or the symlink loops:
      // nothing to mount on.
      if (err instanceof StepError || link) return false;
      throw err;
    }
  };
  const plan = { dev: await dir('/dev'), proc: await dir('/proc'), sys: await dir('/sys') };
  const etc = { resolvConf: false, hosts: false, hostname: false };
  try {
    for (const [imagePath, key] of ETC_FILES) etc[key] = await file(imagePath);
  } catch (err) {
    await files.cleanup().catch(() => undefined);
    await removeCreated(rootfs, created).catch(() => undefined);
    throw err;
  }
  return {
    plan: { ...plan, ...etc },
    touchedDirs: () => files.touchedDirs().filter((d) => d !== '/'),
    cleanup: async () => {
      await files.cleanup();
      await removeCreated(rootfs, created);
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
  /** What was created, in creation order. */
  private readonly created: PinnedPath[] = [];
  /** Canonical image paths of the directories something was created in. */
  private readonly parents = new Set<string>();

  constructor(private readonly rootfs: Rootfs) {}

  /** Pins what was just created at `imagePath` and notes the directory it was made in. */
  private async made(imagePath: string): Promise<void> {
    const parent = await this.rootfs.resolve(posix.dirname(imagePath), { followFinal: true });
    this.parents.add(this.rootfs.imagePathOf(parent));
    await pinCreated(this.rootfs, imagePath, this.created);
  }

  /**
   * The directories (canonical image paths) in which {@link prepare} created something: making
   * and removing a mount point moved their mtime, which is no change of the step's.
   */
  touchedDirs(): string[] {
    return [...this.parents];
  }

  /**
   * Makes `imagePath` ready to be mounted on and returns its host path (free of symlinks), or an
   * error message. With `create: false` nothing is made: the target must exist already (a
   * target inside a read-only source).
   */
  async prepare(
    imagePath: string,
    kind: MountPointKind,
    create: boolean,
  ): Promise<{ host: string } | { error: string }> {
    const parent = posix.dirname(imagePath);
    if (create) {
      for (const made of await mkdirAll(this.rootfs, parent)) await this.made(made);
    } else if ((await kindOf(await this.rootfs.resolve(parent, { followFinal: true }))) !== 'dir') {
      return { error: `${parent} is not a directory` };
    }
    const host = await this.rootfs.resolve(imagePath);
    const found = await kindOf(host);
    if (found === kind) return { host };
    if (found !== 'missing')
      return {
        error: `${imagePath} is ${found === 'other' ? 'a symlink or special file' : `a ${found === 'dir' ? 'directory' : 'file'}`}, and the mount needs a ${kind === 'dir' ? 'directory' : 'file'} there`,
      };
    if (!create) return { error: `${imagePath} does not exist` };
    try {
      if (kind === 'dir') await mkdir(host, { mode: 0o755 });
      else await writeFile(host, '', { mode: 0o644, flag: 'wx' });
    } catch (err) {
      throw fsError(`creating mount point ${imagePath}`, err);
    }
    await this.made(imagePath);
    return { host };
  }

  /** Removes what {@link prepare} created, deepest first; directories the step filled, and whatever it moved or replaced, are kept. */
  cleanup(): Promise<void> {
    return removeCreated(this.rootfs, this.created);
  }
}
