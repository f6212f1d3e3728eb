/**
 * Chooses the strongest isolation this host allows (ARCHITECTURE.md §4), probed once per build:
 * - "namespaces": Kiln may create mount namespaces and runc works — each step is a container;
 * - "chroot": Kiln may not create namespaces (default container capabilities), or runc cannot run
 *   inside the container Kiln runs in — the container is the boundary, as with Kaniko.
 * On a host (not a container) where namespaces are allowed but runc is missing or broken, RUN is
 * refused: a plain chroot would let a root step reach the host.
 */
import { hostname } from 'node:os';
import { findOnPath } from './find-on-path.js';
import { UsageError } from '../errors.js';
import type { ProcessRunner } from './runner.js';
import { runcRunner, runcWorks } from './runc-runner.js';
import { runTool } from './run-tool.js';
import { spawnRunner, type HostTools } from './spawn-runner.js';

/** Whether `argv` runs and exits 0, with `path` as its PATH (Kiln's image keeps mount in /kaniko/bin). */
function exitsZero(argv: readonly string[], path: string): Promise<boolean> {
  const [cmd = '', ...args] = argv;
  return runTool(cmd, args, { env: { PATH: path } }).then(
    (r) => r.code === 0,
    () => false,
  );
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

/** What a chroot-mode step gets and lacks (spawn-runner.ts, chroot-step.ts, chroot-etc.ts), for the log line. */
const CHROOT_STEP =
  "RUN gets no /proc, /sys, RUN --mount or --network=none, but the standard /dev nodes, /dev/shm and the host's resolv.conf, hosts and hostname; the container is the boundary";

const CHROOT_REASON = `Kiln may not create mount namespaces here: no CAP_SYS_ADMIN, or seccomp forbids them; ${CHROOT_STEP}`;

/** What {@link decideIsolation} asks of the host; each probe runs only when the answer matters. */
export interface IsolationProbes {
  /** Kiln may create mount and pid namespaces. */
  namespaces(): Promise<boolean>;
  /** runc is on PATH. */
  runc: boolean;
  /** runc can run a container with these global flags. */
  runcWorks(flags: readonly string[]): Promise<{ ok: true } | { ok: false; why: string }>;
  inContainer(): Promise<boolean>;
}

/** The isolation to use, and why (the log line), or why RUN must be refused. */
export type IsolationChoice =
  | { kind: 'runc'; flags: readonly string[]; reason: string }
  | { kind: 'chroot'; reason: string }
  | { kind: 'refuse'; why: string };

/** The policy of ARCHITECTURE.md §4, apart from the probes that feed it. */
export async function decideIsolation(p: IsolationProbes): Promise<IsolationChoice> {
  if (!(await p.namespaces())) return { kind: 'chroot', reason: CHROOT_REASON };
  const works = p.runc ? await p.runcWorks([]) : { ok: false as const, why: 'runc was not found on PATH' };
  if (works.ok)
    return {
      kind: 'runc',
      flags: [],
      reason: "Kiln may create namespaces here: each RUN is a runc container with Docker's default capabilities",
    };
  if (!(await p.inContainer())) return { kind: 'refuse', why: works.why };
  // A container with CAP_SYS_ADMIN usually has read-only cgroups: runc can still isolate the step
  // without cgroups of its own, the container's own device cgroup standing in for the step's.
  if (p.runc && /cgroup/.test(works.why) && (await p.runcWorks(ROOTLESS_CGROUPS)).ok) {
    return {
      kind: 'runc',
      flags: ROOTLESS_CGROUPS,
      reason:
        "Kiln may create namespaces here: each RUN is a runc container with Docker's default capabilities, without cgroups of its own (this container's are read-only)",
    };
  }
  return {
    kind: 'chroot',
    reason: `runc cannot run here (${works.why}); ${CHROOT_STEP}`,
  };
}

/** Finds the host tools, probes for namespaces and runc, and makes the runner {@link decideIsolation} chooses. */
export async function selectRunner(host: RunnerHost): Promise<ProcessRunner> {
  const searchPath = `${host.path}:/usr/sbin:/usr/bin:/sbin:/bin`;
  const [unshare, sh, flock, mknod, runc, cp] = await Promise.all(
    ['unshare', 'sh', 'flock', 'mknod', 'runc', 'cp'].map((n) => findOnPath(n, searchPath)),
  );
  if (!unshare || !sh) {
    throw new UsageError(
      'RUN needs util-linux `unshare` and a POSIX `sh` on the host, and they were not found on PATH',
    );
  }
  const tools: HostTools = {
    unshare,
    sh,
    ...(flock ? { flock } : {}),
    ...(mknod ? { mknod } : {}),
    ...(runc ? { runc } : {}),
    ...(cp ? { cp } : {}),
  };
  const choice = await decideIsolation({
    namespaces: () =>
      exitsZero(
        [
          unshare,
          '--mount',
          '--pid',
          '--fork',
          '--kill-child',
          '--',
          sh,
          '-c',
          'mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp',
        ],
        searchPath,
      ),
    runc: runc !== undefined,
    runcWorks: (flags) => runcWorks(runc ?? 'runc', host.workDir, flags),
    inContainer: host.inContainer,
  });
  switch (choice.kind) {
    case 'chroot':
      return spawnRunner('chroot', tools, choice.reason);
    case 'runc':
      return runcRunner(
        runc ?? 'runc',
        tools,
        {
          workDir: host.workDir,
          hostname: hostname(),
          resolvConf: '/etc/resolv.conf',
          hosts: '/etc/hosts',
          flags: choice.flags,
        },
        choice.reason,
      );
    case 'refuse':
      throw new UsageError(`RUN needs runc to isolate its steps on this host: ${choice.why}`, {
        hint: 'install runc (Debian and Ubuntu: apt-get install runc); a plain chroot would let a root step reach the host',
      });
  }
}
