/**
 * The host's (or pod's) /etc/resolv.conf, /etc/hosts and /etc/hostname for a chroot-mode step
 * (issue 13). Docker and the namespaces runner bind private copies over the image's files; without
 * a mount namespace nothing can be bound, so copies are put in their place for the step, and the
 * image's own files — or their absence — are back before the snapshot. Kaniko's RUN, built over
 * the pod's own `/`, sees the pod's files the same way.
 *
 * The image's own file is renamed (same filesystem: inode, times and bytes kept, so the snapshot
 * sees it unchanged) into a private directory beside the rootfs, out of the step's reach, and
 * renamed back after. The step may replace /etc by a symlink to a host directory while it runs:
 * /etc is pinned (rootfs/pinned-path.ts) and found again as the same directory before anything
 * in it is touched, and renames and unlinks never follow a final symlink.
 */
import { lstat, mkdir, mkdtemp, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { locate, pin } from '../rootfs/pinned-path.js';
import { Rootfs } from '../rootfs/rootfs.js';

/** Where the host's files come from, and the hostname the step sees. */
export interface HostEtc {
  hostname: string;
  resolvConf: string;
  hosts: string;
}

/** This host's files: its /etc/resolv.conf and /etc/hosts, and its hostname (a pod's name in Kubernetes). */
export function hostEtc(): HostEtc {
  return { hostname: hostname(), resolvConf: '/etc/resolv.conf', hosts: '/etc/hosts' };
}

const lstatOrUndefined = (path: string): Promise<Stats | undefined> => lstat(path).catch(() => undefined);

const succeeds = (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => true,
    () => false,
  );

/** The contents the step gets, by file name in /etc; a host file that cannot be read is left out. */
async function contents(host: HostEtc): Promise<[string, string | Buffer][]> {
  const read = (p: string): Promise<Buffer | undefined> => readFile(p).catch(() => undefined);
  const [resolvConf, hosts] = await Promise.all([read(host.resolvConf), read(host.hosts)]);
  const out: [string, string | Buffer][] = [];
  if (resolvConf) out.push(['resolv.conf', resolvConf]);
  if (hosts) out.push(['hosts', hosts]);
  out.push(['hostname', `${host.hostname}\n`]);
  return out;
}

/**
 * Puts the host's files in the rootfs's /etc for one step and returns the function that restores
 * the image's own. /etc is made (and removed after, if the step left it empty) where the image
 * has none; an /etc that is a symlink or not a directory gets nothing, and a directory at one of
 * the names is left alone.
 */
export async function chrootEtc(rootfsDir: string, host: HostEtc): Promise<() => Promise<void>> {
  const nothing = (): Promise<void> => Promise.resolve();
  if (rootfsDir === '/') return nothing;
  const rootfs = new Rootfs(rootfsDir);
  const etc = await rootfs.resolve('/etc');
  const found = await lstatOrUndefined(etc);
  if (found && !found.isDirectory()) return nothing;
  if (!found) await mkdir(etc, { mode: 0o755 });
  const etcPin = await pin(rootfs, '/etc');
  if (!etcPin || etcPin.kind !== 'dir') return nothing;
  // Beside the rootfs (Kiln's build directory, the same filesystem), so a rename keeps the inode.
  const aside = await mkdtemp(join(dirname(rootfs.root), '.kiln-etc-')).catch(() => undefined);
  const placed: { name: string; moved: boolean }[] = [];
  const restore = async (): Promise<void> => {
    // Only the /etc made or seen before, reached without a symlink: never one the step put there.
    const etcNow = await locate(rootfs, etcPin);
    if (etcNow !== undefined) {
      for (const { name, moved } of placed.splice(0)) {
        const path = join(etcNow, name);
        // rename(2) replaces what the step left there (a file or symlink) without following it.
        if (moved && aside) await rename(join(aside, name), path).catch(() => undefined);
        else if ((await lstatOrUndefined(path))?.isDirectory() === false) await unlink(path).catch(() => undefined);
      }
      if (!found) await rmdir(etcNow).catch(() => undefined);
    }
    if (aside) await rm(aside, { recursive: true, force: true });
  };
  try {
    for (const [name, data] of await contents(host)) {
      const path = join(etc, name);
      const own = await lstatOrUndefined(path);
      if (own?.isDirectory()) continue;
      // Without a place beside the rootfs on its filesystem, the image's own file stays.
      if (own && !(aside && (await succeeds(rename(path, join(aside, name)))))) continue;
      placed.push({ name, moved: own !== undefined });
      // `wx`: a fresh file, never through a symlink.
      await writeFile(path, data, { mode: 0o644, flag: 'wx' });
    }
  } catch (err) {
    await restore();
    throw err;
  }
  return restore;
}
