/**
 * Spawning a RUN step's process (the only place besides `select.ts` and `runc-runner.ts` that uses
 * child_process) and the runners that wrap util-linux `unshare`: "chroot" only chroots and drops
 * privileges, for hosts that forbid namespaces (default container capabilities, no CAP_SYS_ADMIN:
 * the container is the boundary, as with Kaniko); an in-place RUN (`--rootfs=/`) with namespaces
 * runs IN_PLACE_SCRIPT in new mount + pid namespaces. Without namespaces, the chroot runner itself
 * makes the /dev nodes a step expects and finds the step's leftover processes in /proc
 * (chroot-step.ts), and puts the host's resolv.conf, hosts and hostname in /etc (chroot-etc.ts).
 * A rootfs of Kiln's own, where namespaces are allowed, runs under runc.
 */
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { StepError } from '../errors.js';
import { chrootEtc, hostEtc, type HostEtc } from './chroot-etc.js';
import { chrootDevices, kill, reapChrootStep } from './chroot-step.js';
import { IN_PLACE_SCRIPT } from './in-place-script.js';
import type { IsolationMode, ProcessRunner, RunMount, RunResult, RunSpec } from './runner.js';

/** Host programs the runners start, found on the host PATH at start-up. */
export interface HostTools {
  unshare: string;
  sh: string;
  /** util-linux `flock`, for cache mounts with `sharing=locked|private`; absent when not installed. */
  flock?: string;
  /** coreutils `mknod`, for the device nodes of a chroot-mode step; absent when not installed. */
  mknod?: string;
  /** `runc`, the OCI runtime that isolates a step in "namespaces" mode; absent when not installed. */
  runc?: string;
  /** `cp`, for a private copy of a writable RUN --mount source where overlayfs cannot stack; absent when not installed. */
  cp?: string;
}

/** The per-mount positional arguments of MOUNT_SCRIPT: kind, source, target, option. */
function mountArgs(m: RunMount): string[] {
  switch (m.kind) {
    case 'bind':
      return ['bind', m.source, m.target, m.readonly ? 'ro' : 'rw'];
    case 'overlay':
      return ['overlay', m.source, m.target, ''];
    case 'tmpfs':
      return ['tmpfs', '', m.target, m.sizeBytes === undefined ? '' : String(Math.trunc(m.sizeBytes))];
  }
}

/**
 * `flock -o LOCK` per lock, each holding its lock until the step ends (`-o`: the step itself does
 * not inherit the lock's descriptor).
 */
export function lockPrefix(tools: HostTools, locks: readonly string[]): string[] {
  if (locks.length === 0) return [];
  if (!tools.flock) {
    throw new StepError(
      'RUN --mount=type=cache with sharing=locked or sharing=private needs util-linux `flock` on the host, and it was not found on PATH',
      undefined,
      { hint: 'install util-linux, or use sharing=shared' },
    );
  }
  return locks.flatMap((lock) => [tools.flock ?? 'flock', '-o', lock]);
}

function argvFor(mode: IsolationMode, tools: HostTools, spec: RunSpec): string[] {
  const ids = [String(spec.user.uid), String(spec.user.gid)];
  if (mode === 'chroot') {
    // The caller refuses these in chroot mode with a message for the user (commands/run.ts).
    if (spec.extra || spec.network === 'none')
      throw new Error('chroot isolation cannot make RUN mounts or network namespaces');
    return [
      tools.unshare,
      `--root=${spec.rootfs}`,
      `--wd=${spec.cwd}`,
      `--setgid=${ids[1]}`,
      `--setuid=${ids[0]}`,
      '--',
      ...spec.argv,
    ];
  }
  if (spec.rootfs !== '/') throw new Error('the unshare runner runs only in-place steps in namespaces mode');
  const extra = spec.extra;
  const network = spec.network ?? 'host';
  return [
    ...lockPrefix(tools, extra?.locks ?? []),
    tools.unshare,
    '--mount',
    '--pid',
    ...(network === 'none' ? ['--net'] : []),
    '--fork',
    '--kill-child',
    '--propagation',
    'private',
    '--',
    tools.sh,
    '-c',
    IN_PLACE_SCRIPT,
    'kiln-run',
    ...ids,
    spec.cwd,
    extra?.scratch ?? '',
    extra?.pipes ?? '',
    network,
    String(extra?.mounts.length ?? 0),
    tools.unshare,
    ...(extra?.mounts ?? []).flatMap(mountArgs),
    ...spec.argv,
  ];
}

/** How long to wait for the output pipes to close once the step's processes are killed. */
const PIPE_GRACE_MS = 2000;

/** How {@link runSpawned} starts a step and takes down what it left running. */
export interface SpawnOptions {
  /** The environment of the spawned program, when it is not the step's own (runc reads the step's from its spec). */
  env?: Record<string, string>;
  /** Kills what escaped the process group (chroot mode), given the first process's pid; runs when the step ends or aborts. */
  reap?: (leader: number) => Promise<void>;
  /** Stops the step on abort before its process group is killed (runc: `runc kill`, so runc can tear the container down). */
  stop?: () => Promise<void>;
}

/**
 * Spawns the step and resolves with its exit status. When its first process ends, or the signal
 * aborts, whatever the step still runs is killed: its process group (in namespace mode the pid
 * namespace goes with it), and in chroot mode also what escaped the group (`reap`).
 */
export function runSpawned(
  argv: string[],
  spec: RunSpec,
  signal: AbortSignal | undefined,
  opts: SpawnOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // An abort that came before the step started (a SIGTERM while its mounts were prepared) fires
    // no 'abort' event any more: without this check the step would run on and the build hang.
    if (signal?.aborted) {
      // The abort's own reason, as Node's APIs reject with when aborted (an AbortError unless the
      // caller gave one).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal.reason);
      return;
    }
    const [cmd = '', ...args] = argv;
    const env: Record<string, string> = opts.env ?? {};
    if (!opts.env) {
      for (const kv of spec.env) {
        const eq = kv.indexOf('=');
        if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
    }
    // detached: the step gets its own process group, so leftovers can be killed as one.
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let killing: Promise<void> | undefined;
    const killAll = (): Promise<void> => {
      const leader = child.pid;
      if (leader === undefined) return Promise.resolve();
      // In chroot mode the tree is read before anything is killed: a killed parent's children
      // are re-parented and could no longer be told from the machine's other processes.
      const reap = opts.reap;
      killing ??= reap
        ? reap(leader)
            .catch(() => undefined)
            .then(() => kill(-leader))
        : Promise.resolve(kill(-leader));
      return killing;
    };
    const stop = opts.stop;
    const onAbort = (): void => void (stop ? stop().catch(() => undefined) : Promise.resolve()).then(killAll);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', spec.onOutput);
    child.stderr.on('data', spec.onOutput);
    let exit: RunResult | undefined;
    let grace: NodeJS.Timeout | undefined;
    child.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    // 'exit', not 'close': a background child holding the output pipes would keep 'close' away,
    // and the step (and the build) would wait for it. The step is over: what it started goes too.
    child.once('exit', (code, sig) => {
      exit = { exitStatus: code, signal: sig };
      void killAll().then(() => {
        // Output still in the pipes is read until they close; a writer nothing could find (another
        // uid, no CAP_SYS_PTRACE) does not hold the build up for long.
        grace = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, PIPE_GRACE_MS);
      });
    });
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      void killAll().then(() => {
        clearTimeout(grace);
        resolve(exit ?? { exitStatus: code, signal: sig });
      });
    });
  });
}

/**
 * A runner for the given isolation mode. A chroot-mode step gets `etc` (default: this host's)
 * as its /etc/resolv.conf, /etc/hosts and /etc/hostname (chroot-etc.ts).
 */
export function spawnRunner(
  mode: IsolationMode,
  tools: HostTools,
  reason: string,
  etc: HostEtc = hostEtc(),
): ProcessRunner {
  return {
    mode,
    reason,
    async run(spec, signal) {
      const argv = argvFor(mode, tools, spec);
      if (mode !== 'chroot') return runSpawned(argv, spec, signal);
      const root = await realpath(spec.rootfs);
      const removeDevices = await chrootDevices(spec, tools);
      let restoreEtc: (() => Promise<void>) | undefined;
      try {
        restoreEtc = await chrootEtc(spec.rootfs, etc);
        return await runSpawned(argv, spec, signal, {
          reap: (leader) => reapChrootStep(leader, root === '/' ? undefined : root),
        });
      } finally {
        await restoreEtc?.();
        await removeDevices();
      }
    },
  };
}
