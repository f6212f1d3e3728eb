/**
 * What a chroot-mode step lacks without namespaces, made up for by the runner: the /dev nodes, the
 * /dev/shm directory and the /dev/fd links a step expects (made for the step, removed before the
 * snapshot), and finding the step's leftover processes in /proc when there is no pid namespace to
 * take them down.
 */
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { locate, pin, removePinned, type PinnedPath } from '../rootfs/pinned-path.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { mknodTool } from './mknod.js';
import type { RunSpec } from './runner.js';
import type { HostTools } from './spawn-runner.js';

/**
 * The character devices every step expects in /dev (the nodes the namespaces runner binds from
 * the host, as Docker's default /dev has them): name, major, minor.
 */
const DEVICES = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
] as const;

/**
 * The links Docker's and runc's /dev have (runc `setupDevSymlinks`). Without /proc in chroot mode
 * they dangle, but a step that tests for them, or whose shell resolves them later, finds them.
 */
const DEV_LINKS = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
] as const;

const succeeds = (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => true,
    () => false,
  );

const missing = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => false,
    (err: unknown) => errnoCode(err) === 'ENOENT',
  );

/**
 * Chroot mode cannot mount a /dev, yet a shell opens /dev/null for every `&` job and RUN lines
 * redirect to it; without the node, `> /dev/null` would even write a regular file into the layer.
 * So the nodes the image lacks are made in its /dev (a real directory: `spec.mounts.dev`) for the
 * step, and the returned function removes them again before the snapshot. Where mknod is not
 * permitted (no CAP_MKNOD) the step runs without them, as before. A missing /dev/shm (1777, as
 * Docker's tmpfs) and the /dev/fd links are made the same way; what the step wrote into /dev/shm
 * goes with it, as a tmpfs's content would.
 */
export async function chrootDevices(spec: RunSpec, tools: HostTools): Promise<() => Promise<void>> {
  const rootfs = new Rootfs(spec.rootfs);
  const made: PinnedPath[] = [];
  let shm: PinnedPath | undefined;
  const removeMade = async (): Promise<void> => {
    // Only what was made, found again inside the rootfs, is ours to remove: the step may have
    // replaced /dev by a symlink to a host directory, or a node by one of its own.
    for (const node of made.splice(0)) await removePinned(rootfs, node).catch(() => undefined);
    const dir = shm && (await locate(rootfs, shm).catch(() => undefined));
    shm = undefined;
    // fs.rm removes a symlink inside, never what it names.
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  if (!spec.mounts.dev || spec.rootfs === '/') return removeMade;
  const mknod = tools.mknod ? mknodTool(tools.mknod) : undefined;
  for (const [name, major, minor] of mknod ? DEVICES : []) {
    const path = join(spec.rootfs, 'dev', name);
    if (!(await missing(path))) continue;
    const got = await mknod?.(path, 'char', { major, minor }).catch(() => 'failed' as const);
    if (got === 'not-permitted') break;
    if (got === 'failed') continue;
    const node = await pin(rootfs, `/dev/${name}`).catch(() => undefined);
    if (node) made.push(node);
    // mknodTool makes nodes 0600; a step running as another user needs them as Docker has them.
    await chmod(path, 0o666).catch(() => undefined);
  }
  // Each is made only where nothing is, and what cannot be made the step goes without.
  const shmPath = join(spec.rootfs, 'dev', 'shm');
  if ((await missing(shmPath)) && (await succeeds(mkdir(shmPath)))) {
    shm = await pin(rootfs, '/dev/shm');
    await chmod(shmPath, 0o1777);
  }
  for (const [name, target] of DEV_LINKS) {
    const path = join(spec.rootfs, 'dev', name);
    if (!(await missing(path)) || !(await succeeds(symlink(target, path)))) continue;
    const link = await pin(rootfs, `/dev/${name}`);
    if (link) made.push(link);
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
  const inRoot = (r: string | undefined): boolean =>
    rootfs !== undefined && r !== undefined && (r === rootfs || r.startsWith(`${rootfs}/`));
  for (const p of all) if (p.pgrp === leader || p.pid === leader || inRoot(p.root)) found.add(p.pid);
  found.delete(process.pid);
  found.delete(1);
  return [...found];
}

/** SIGKILL, ignoring a process that is already gone. */
export function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Kills every process of a chroot-mode step (see {@link stepMembers}), looking again after each
 * round for what was forked meanwhile, until a round finds nothing new. Without a pid namespace
 * this is what "a RUN's leftover processes are killed" (ARCHITECTURE.md §4) takes.
 */
export async function reapChrootStep(leader: number, rootfs: string | undefined): Promise<void> {
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
