/**
 * Chooses the strongest isolation this host allows (DESIGN.md §3), probed once per build:
 * - "namespaces": Kiln may create mount namespaces and runc works — each step is a container;
 * - "chroot": Kiln may not create namespaces (default container capabilities), or runc cannot run
 *   inside the container Kiln runs in — the container is the boundary, as with Kaniko.
 * On a host (not a container) where namespaces are allowed but runc is missing or broken, RUN is
 * refused: a plain chroot would let a root step reach the host.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { findOnPath } from './find-on-path.js';
import { UsageError } from '../errors.js';
import type { ProcessRunner } from './runner.js';
import { runcRunner, runcWorks } from './runc-runner.js';
import { spawnRunner, type HostTools } from './spawn-runner.js';

function exitsZero(argv: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const [cmd = '', ...args] = argv;
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

/** What {@link selectRunner} needs from the build. */
export interface RunnerHost {
  /** The host's PATH. */
  path: string;
  /** A directory of this build for runc's state and the steps' bundles. */
  workDir: string;
  /** Whether Kiln runs inside a container (rootfs/container.ts), asked only when runc cannot be used. */
  inContainer: () => Promise<boolean>;
}

/** runc's flag to carry on where it cannot create cgroups (it skips them rather than failing). */
const ROOTLESS_CGROUPS = ['--rootless=true'];

const CHROOT_REASON = 'Kiln may not create mount namespaces here: no CAP_SYS_ADMIN, or seccomp forbids them; RUN gets no /proc, /sys, RUN --mount or --network=none, and the container is the boundary';

/** Finds the host tools and probes for namespaces and runc. */
export async function selectRunner(host: RunnerHost): Promise<ProcessRunner> {
  const searchPath = `${host.path}:/usr/sbin:/usr/bin:/sbin:/bin`;
  const [unshare, sh, flock, mknod, runc, cp] = await Promise.all(['unshare', 'sh', 'flock', 'mknod', 'runc', 'cp'].map((n) => findOnPath(n, searchPath)));
  if (!unshare || !sh) {
    throw new UsageError('RUN needs util-linux `unshare` and a POSIX `sh` on the host, and they were not found on PATH');
  }
  const tools: HostTools = { unshare, sh, ...(flock ? { flock } : {}), ...(mknod ? { mknod } : {}), ...(runc ? { runc } : {}), ...(cp ? { cp } : {}) };
  const namespaces = await exitsZero([unshare, '--mount', '--pid', '--fork', '--kill-child', '--', sh, '-c', 'mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp']);
  if (!namespaces) return spawnRunner('chroot', tools, CHROOT_REASON);
  const works = runc ? await runcWorks(runc, host.workDir) : { ok: false as const, why: 'runc was not found on PATH' };
  const runcHost = { workDir: host.workDir, hostname: hostname(), resolvConf: '/etc/resolv.conf', hosts: '/etc/hosts' };
  if (works.ok && runc) {
    return runcRunner(runc, tools, { ...runcHost, flags: [] }, 'Kiln may create namespaces here: each RUN is a runc container with Docker\'s default capabilities');
  }
  const why = works.ok ? 'runc was not found on PATH' : works.why;
  const inContainer = await host.inContainer();
  // A container with CAP_SYS_ADMIN usually has read-only cgroups: runc can still isolate the step
  // without cgroups of its own, the container's own device cgroup standing in for the step's.
  if (inContainer && runc && /cgroup/.test(why) && (await runcWorks(runc, host.workDir, ROOTLESS_CGROUPS)).ok) {
    return runcRunner(runc, tools, { ...runcHost, flags: ROOTLESS_CGROUPS }, 'Kiln may create namespaces here: each RUN is a runc container with Docker\'s default capabilities, without cgroups of its own (this container\'s are read-only)');
  }
  if (inContainer) {
    return spawnRunner('chroot', tools, `runc cannot run here (${why}); RUN gets no /proc, /sys, RUN --mount or --network=none, and the container is the boundary`);
  }
  throw new UsageError(`RUN needs runc to isolate its steps on this host: ${why}`, {
    hint: 'install runc (Debian and Ubuntu: apt-get install runc); a plain chroot would let a root step reach the host',
  });
}
