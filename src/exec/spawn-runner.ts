/**
 * Runners that spawn util-linux `unshare` (the only place besides `select.ts` that uses
 * child_process): "namespaces" wraps the step in new mount + pid namespaces and runs
 * MOUNT_SCRIPT; "chroot" only chroots and drops privileges, for hosts that forbid namespaces
 * (default container capabilities, no CAP_SYS_ADMIN). Without namespaces, the chroot runner
 * itself makes the /dev nodes a step expects and finds the step's leftover processes in /proc.
 */
import { spawn } from 'node:child_process';
import { chmod, lstat, readdir, readFile, readlink, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, StepError } from '../errors.js';
import { mknodTool } from './mknod.js';
import { MOUNT_SCRIPT } from './mount-script.js';
import type { IsolationMode, ProcessRunner, RunMount, RunResult, RunSpec } from './runner.js';

/** Host programs the runners start, found on the host PATH at start-up. */
export interface HostTools {
  unshare: string;
  sh: string;
  /** util-linux `flock`, for cache mounts with `sharing=locked|private`; absent when not installed. */
  flock?: string;
  /** coreutils `mknod`, for the device nodes of a chroot-mode step; absent when not installed. */
  mknod?: string;
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

/**
 * The character devices every step expects in /dev (the nodes the namespaces runner binds from
 * the host, as Docker's default /dev has them): name, major, minor.
 */
const DEVICES = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]] as const;

/**
 * Chroot mode cannot mount a /dev, yet a shell opens /dev/null for every `&` job and RUN lines
 * redirect to it; without the node, `> /dev/null` would even write a regular file into the layer.
 * So the nodes the image lacks are made in its /dev (a real directory: `spec.mounts.dev`) for the
 * step, and the returned function removes them again before the snapshot. Where mknod is not
 * permitted (no CAP_MKNOD) the step runs without them, as before.
 */
async function chrootDevices(spec: RunSpec, tools: HostTools): Promise<() => Promise<void>> {
  const made: string[] = [];
  const removeMade = async (): Promise<void> => {
    for (const path of made) {
      // Only what is still a device node is ours to remove; anything the step put there stays.
      const st = await lstat(path).catch(() => undefined);
      if (st?.isCharacterDevice()) await unlink(path).catch(() => undefined);
    }
  };
  if (!spec.mounts.dev || !tools.mknod) return removeMade;
  const mknod = mknodTool(tools.mknod);
  for (const [name, major, minor] of DEVICES) {
    const path = join(spec.rootfs, 'dev', name);
    const missing = await lstat(path).then(() => false, (err: unknown) => errnoCode(err) === 'ENOENT');
    if (!missing) continue;
    const got = await mknod(path, 'char', { major, minor }).catch(() => 'failed' as const);
    if (got === 'not-permitted') break;
    if (got === 'failed') continue;
    made.push(path);
    // mknodTool makes nodes 0600; a step running as another user needs them as Docker has them.
    await chmod(path, 0o666).catch(() => undefined);
  }
  return removeMade;
}

/** A process as /proc shows it: parent, process group, and where its root directory is (when readable). */
interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  root: string | undefined;
}

/** The live processes of the machine (zombies left out: they are dead already and cannot fork). */
async function listProcesses(): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const name of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so split after the last ')'.
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (!state || state === 'Z' || state === 'X') continue;
    // Readable for our own uid, or with CAP_SYS_PTRACE; otherwise only the group and the tree find it.
    const root = await readlink(`/proc/${name}/root`).catch(() => undefined);
    out.push({ pid: Number(name), ppid: Number(ppid), pgrp: Number(pgrp), root });
  }
  return out;
}

/**
 * The processes of a chroot-mode step: its process group, the descendants of its first process,
 * and every process whose root directory is the step's rootfs or below it. The last finds what left
 * the group and the tree — `setsid`, a double fork — whose parent is gone; it is skipped for an
 * in-place rootfs (`/`), where every process would match.
 */
function stepMembers(all: readonly ProcInfo[], leader: number, rootfs: string | undefined): number[] {
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = new Set<number>();
  const todo = [leader];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    for (const c of children.get(pid) ?? []) {
      if (found.has(c)) continue;
      found.add(c);
      todo.push(c);
    }
  }
  const inRoot = (r: string | undefined): boolean => rootfs !== undefined && r !== undefined && (r === rootfs || r.startsWith(`${rootfs}/`));
  for (const p of all) if (p.pgrp === leader || p.pid === leader || inRoot(p.root)) found.add(p.pid);
  found.delete(process.pid);
  found.delete(1);
  return [...found];
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Kills every process of a chroot-mode step (see {@link stepMembers}), looking again after each
 * round for what was forked meanwhile, until a round finds nothing new. Without a pid namespace
 * this is what "a RUN's leftover processes are killed" (DESIGN.md §3) takes.
 */
async function reapChrootStep(leader: number, rootfs: string | undefined): Promise<void> {
  const killed = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const fresh = stepMembers(await listProcesses(), leader, rootfs).filter((p) => !killed.has(p));
    if (fresh.length === 0) return;
    for (const pid of fresh) {
      killed.add(pid);
      kill(pid);
    }
  }
}

/** How long to wait for the output pipes to close once the step's processes are killed. */
const PIPE_GRACE_MS = 2000;

/**
 * Spawns the step and resolves with its exit status. When its first process ends, or the signal
 * aborts, whatever the step still runs is killed: its process group (in namespace mode the pid
 * namespace goes with it), and in chroot mode also what escaped the group (`reapChroot`).
 */
function runSpawned(argv: string[], spec: RunSpec, signal: AbortSignal | undefined, reapChroot: ((leader: number) => Promise<void>) | undefined): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // An abort that came before the step started (a SIGTERM while its mounts were prepared) fires
    // no 'abort' event any more: without this check the step would run on and the build hang.
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const [cmd = '', ...args] = argv;
    const env: Record<string, string> = {};
    for (const kv of spec.env) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    // detached: the step gets its own process group, so leftovers can be killed as one.
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let reaping: Promise<void> | undefined;
    const killAll = (): Promise<void> => {
      const leader = child.pid;
      if (leader === undefined) return Promise.resolve();
      // In chroot mode the tree is read before anything is killed: a killed parent's children
      // are re-parented and could no longer be told from the machine's other processes.
      reaping ??= reapChroot ? reapChroot(leader).catch(() => undefined).then(() => kill(-leader)) : Promise.resolve(kill(-leader));
      return reaping;
    };
    const onAbort = (): void => void killAll();
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

/** A runner for the given isolation mode. */
export function spawnRunner(mode: IsolationMode, tools: HostTools): ProcessRunner {
  return {
    mode,
    async run(spec, signal) {
      const argv = argvFor(mode, tools, spec);
      if (mode !== 'chroot') return runSpawned(argv, spec, signal, undefined);
      const root = await realpath(spec.rootfs);
      const removeDevices = await chrootDevices(spec, tools);
      try {
        return await runSpawned(argv, spec, signal, (leader) => reapChrootStep(leader, root === '/' ? undefined : root));
      } finally {
        await removeDevices();
      }
    },
  };
}
