/**
 * Chooses the strongest isolation this host allows (DESIGN.md §3): new mount + pid namespaces
 * when `unshare` may create them, plain chroot otherwise. Probed once per build.
 */
import { spawn } from 'node:child_process';
import { findOnPath } from './find-on-path.js';
import { UsageError } from '../errors.js';
import type { ProcessRunner } from './runner.js';
import { spawnRunner, type HostTools } from './spawn-runner.js';

function exitsZero(argv: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const [cmd = '', ...args] = argv;
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

/** Finds the host tools and probes for namespaces; `hostPath` is the host's PATH. */
export async function selectRunner(hostPath: string): Promise<ProcessRunner> {
  const searchPath = `${hostPath}:/usr/sbin:/usr/bin:/sbin:/bin`;
  const unshare = await findOnPath('unshare', searchPath);
  const sh = await findOnPath('sh', searchPath);
  if (!unshare || !sh) {
    throw new UsageError('RUN needs util-linux `unshare` and a POSIX `sh` on the host, and they were not found on PATH');
  }
  const flock = await findOnPath('flock', searchPath);
  const mknod = await findOnPath('mknod', searchPath);
  const tools: HostTools = { unshare, sh, ...(flock ? { flock } : {}), ...(mknod ? { mknod } : {}) };
  const namespaces = await exitsZero([unshare, '--mount', '--pid', '--fork', '--kill-child', '--', sh, '-c', 'mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp']);
  return namespaces
    ? spawnRunner('namespaces', tools, 'Kiln may create mount and pid namespaces here')
    : spawnRunner('chroot', tools, 'Kiln may not create mount namespaces here: no CAP_SYS_ADMIN, or seccomp forbids them; RUN gets no /proc, /sys, RUN --mount or --network=none');
}
