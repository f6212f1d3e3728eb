/**
 * Runners that spawn util-linux `unshare` (the only place besides `select.ts` that uses
 * child_process): "namespaces" wraps the step in new mount + pid namespaces and runs
 * MOUNT_SCRIPT; "chroot" only chroots and drops privileges, for hosts that forbid namespaces
 * (default container capabilities, no CAP_SYS_ADMIN).
 */
import { spawn } from 'node:child_process';
import { StepError } from '../errors.js';
import { MOUNT_SCRIPT } from './mount-script.js';
import type { IsolationMode, ProcessRunner, RunMount, RunResult, RunSpec } from './runner.js';

/** Host programs the runners start, found on the host PATH at start-up. */
export interface HostTools {
  unshare: string;
  sh: string;
  /** util-linux `flock`, for cache mounts with `sharing=locked|private`; absent when not installed. */
  flock?: string;
}

/** The per-mount positional arguments of MOUNT_SCRIPT: kind, source, target, option. */
function mountArgs(m: RunMount): string[] {
  switch (m.kind) {
    case 'bind': return ['bind', m.source, m.target, m.readonly ? 'ro' : 'rw'];
    case 'overlay': return ['overlay', m.source, m.target, ''];
    case 'tmpfs': return ['tmpfs', '', m.target, m.sizeBytes === undefined ? '' : String(Math.trunc(m.sizeBytes))];
  }
}

/**
 * `flock -o LOCK` per lock, each holding its lock until the step ends (`-o`: the step itself does
 * not inherit the lock's descriptor).
 */
function lockPrefix(tools: HostTools, locks: readonly string[]): string[] {
  if (locks.length === 0) return [];
  if (!tools.flock) {
    throw new StepError('RUN --mount=type=cache with sharing=locked or sharing=private needs util-linux `flock` on the host, and it was not found on PATH', undefined, { hint: 'install util-linux, or use sharing=shared' });
  }
  return locks.flatMap((lock) => [tools.flock ?? 'flock', '-o', lock]);
}

function argvFor(mode: IsolationMode, tools: HostTools, spec: RunSpec): string[] {
  const ids = [String(spec.user.uid), String(spec.user.gid)];
  if (mode === 'chroot') {
    // The caller refuses these in chroot mode with a message for the user (commands/run.ts).
    if (spec.extra || spec.network === 'none') throw new Error('chroot isolation cannot make RUN mounts or network namespaces');
    return [tools.unshare, `--root=${spec.rootfs}`, `--wd=${spec.cwd}`, `--setgid=${ids[1]}`, `--setuid=${ids[0]}`, '--', ...spec.argv];
  }
  const m = spec.mounts;
  const extra = spec.extra;
  const flag = (b: boolean): string => (b ? '1' : '0');
  const network = spec.network ?? 'host';
  return [
    ...lockPrefix(tools, extra?.locks ?? []),
    tools.unshare, '--mount', '--pid', ...(network === 'none' ? ['--net'] : []), '--fork', '--kill-child', '--propagation', 'private', '--',
    tools.sh, '-c', MOUNT_SCRIPT, 'kiln-run',
    spec.rootfs, ...ids, spec.cwd, flag(m.dev), flag(m.proc), flag(m.sys), flag(m.resolvConf), flag(m.hosts),
    extra?.scratch ?? '', extra?.pipes ?? '', network, String(extra?.mounts.length ?? 0), tools.unshare,
    ...(extra?.mounts ?? []).flatMap(mountArgs),
    ...spec.argv,
  ];
}

/** Spawns the step and resolves with its exit status; kills the whole process group on abort. */
function runSpawned(argv: string[], spec: RunSpec, signal: AbortSignal | undefined): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd = '', ...args] = argv;
    const env: Record<string, string> = {};
    for (const kv of spec.env) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    // detached: the step gets its own process group, so leftovers can be killed as one.
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    const onAbort = (): void => killGroup();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', spec.onOutput);
    child.stderr.on('data', spec.onOutput);
    child.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      // The step is over: whatever it started in the background goes with it (DESIGN.md §3).
      killGroup();
      resolve({ exitStatus: code, signal: sig });
    });
  });
}

/** A runner for the given isolation mode. */
export function spawnRunner(mode: IsolationMode, tools: HostTools): ProcessRunner {
  return {
    mode,
    run: (spec, signal) => runSpawned(argvFor(mode, tools, spec), spec, signal),
  };
}
