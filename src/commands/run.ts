/**
 * RUN: executes a command inside the rootfs with the chosen ProcessRunner, as the stage's USER,
 * in its WORKDIR, with its ENV plus the ARGs in scope (Docker passes build args to RUN but does
 * not persist them). `--mount`s, `--network=none` and a `#!` heredoc's file are set up in the
 * step's private namespaces; what changed is found by comparing a file index of the rootfs taken
 * before and after (ARCHITECTURE.md §5) — after every mount point Kiln made is gone again.
 */
import { writeFile, chmod } from 'node:fs/promises';
import { DockerfileError, fsError, StepError } from '../errors.js';
import type { RunInstruction } from '../dockerfile/instructions.js';
import type { ProcessRunner } from '../exec/runner.js';
import { resolveUser } from '../exec/users.js';
import { mkdirAll } from '../rootfs/mkdir.js';
import { MountTargets, prepareMountPoints } from '../rootfs/mount-points.js';
import { readRootfsFile } from '../rootfs/read.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { PIPES_DIR, runCommand, type RunCommand } from './run-command.js';
import { checkRunSecurity, runNetwork } from './run-flags.js';
import { runMountSpecs, type RunMountSpec } from './run-mount-spec.js';
import { prepareRunMounts, type PreparedRunMounts } from './run-mounts.js';
import { runFailure } from './run-status.js';
import { DEFAULT_PATH, type StageState, type StepContext, type StepResult } from './step.js';
import { OutputTail } from './output-tail.js';

/** The environment of a RUN: ARGs in scope, overridden by ENV; PATH and HOME defaulted as Docker does. */
export function runEnv(state: StageState, home: string, proxyArgs: ReadonlyMap<string, string> = new Map()): string[] {
  const env = new Map<string, string>(proxyArgs);
  for (const [k, v] of state.args) if (v !== undefined) env.set(k, v);
  for (const kv of state.config.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  if (!env.has('HOME')) env.set('HOME', home);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

const NAMESPACES_HINT =
  'run Kiln as root with CAP_SYS_ADMIN (e.g. a privileged container, or securityContext.capabilities.add: ["SYS_ADMIN"]) or where user namespaces are allowed, so that it can create namespaces';

/** Under a RUN that failed in chroot mode: what that mode lacks, and how to get namespaces. */
const CHROOT_FAILURE_HINT =
  'RUN ran in chroot isolation (this host does not let Kiln create namespaces: no CAP_SYS_ADMIN), so /proc and /sys are not mounted; ' +
  'if the command needs them, give Kiln CAP_SYS_ADMIN (e.g. docker run --cap-add SYS_ADMIN, or securityContext.capabilities.add: ["SYS_ADMIN"]) for namespace isolation';

/** Refuses what only the "namespaces" isolation can do, naming the mode this host allows. */
function checkIsolation(
  ins: RunInstruction,
  runner: ProcessRunner,
  specs: readonly RunMountSpec[],
  network: 'host' | 'none',
): void {
  if (runner.mode === 'namespaces') return;
  const what =
    specs.length > 0
      ? 'RUN --mount needs a private mount namespace'
      : network === 'none'
        ? 'RUN --network=none needs a network namespace of its own'
        : undefined;
  if (what)
    throw new StepError(`${what}, and this host allows only "${runner.mode}" isolation`, ins.at, {
      hint: NAMESPACES_HINT,
    });
}

/** The name of a `#!` heredoc's file must be one path component (it lives in /dev/pipes). */
function checkScriptName(ins: RunInstruction, command: RunCommand): void {
  const name = command.script?.name;
  if (name !== undefined && (name.includes('/') || name === '.' || name === '..')) {
    throw new DockerfileError(
      `RUN heredoc delimiter ${JSON.stringify(name)} cannot name a file in ${PIPES_DIR}`,
      ins.at,
      { source: ins.text },
    );
  }
}

/**
 * Puts a `#!` heredoc's file at /dev/pipes/<name> in the rootfs itself, for runners that cannot
 * mount it there (chroot mode, or a rootfs whose /dev is not a directory); removed after the step.
 */
async function scriptInRootfs(rootfs: Rootfs, script: { name: string; content: string }): Promise<MountTargets> {
  const targets = new MountTargets(rootfs);
  const got = await targets.prepare(`${PIPES_DIR}/${script.name}`, 'file', true);
  if ('error' in got) {
    await targets.cleanup();
    throw new StepError(`RUN heredoc: cannot write ${PIPES_DIR}/${script.name}: ${got.error}`);
  }
  try {
    await writeFile(got.host, script.content);
    await chmod(got.host, 0o755);
  } catch (err) {
    await targets.cleanup();
    throw fsError(`writing ${PIPES_DIR}/${script.name}`, err);
  }
  return targets;
}

/** RUN: runs the step and reports what it changed in the rootfs; a failing command is a StepError exiting with its status. */
export async function run(ins: RunInstruction, state: StageState, ctx: StepContext): Promise<StepResult> {
  const runner = await ctx.runner();
  checkRunSecurity(ins);
  const network = runNetwork(ins);
  const specs = runMountSpecs(ins, state, ctx.planned.mounts ?? []);
  const command = runCommand(ins, state);
  checkScriptName(ins, command);
  checkIsolation(ins, runner, specs, network);
  const display = ins.command.form === 'shell' ? ins.command.command : JSON.stringify(ins.command.argv);
  const userSpec = state.config.User || 'root';
  const found = resolveUser(
    userSpec,
    await readRootfsFile(ctx.rootfs, '/etc/passwd'),
    await readRootfsFile(ctx.rootfs, '/etc/group'),
  );
  // Without USER, BuildKit runs the step as 0:0 without asking /etc/passwd (executor/oci/user.go
  // GetUser of ""), so a FROM scratch stage can RUN its static binary.
  const who = 'error' in found && !state.config.User ? { uid: 0, gid: 0, home: '/' } : found;
  if ('error' in who) {
    // An id that would wrap to another (4294967296 is root) is the Dockerfile's fault, not the step's.
    if (who.kind === 'range') throw new DockerfileError(`RUN ${display}: ${who.error}`, ins.at, { source: ins.text });
    throw new StepError(`RUN ${display}: ${who.error}`, ins.at);
  }
  const cwd = state.config.WorkingDir || '/';
  // BuildKit creates a missing working directory for RUN; it becomes part of this step's layer.
  await mkdirAll(ctx.rootfs, cwd);

  const snapshot = await ctx.snapshotter?.begin();
  const mounts = await prepareMountPoints(ctx.rootfs);
  const tail = new OutputTail(40, 8192);
  const mountEnv = { ...ctx.runMounts, contextDir: ctx.contextDir, fromSource: ctx.fromSource };
  let result;
  let prepared: PreparedRunMounts | undefined;
  let placedScript: MountTargets | undefined;
  try {
    const inRootfs = command.script !== undefined && (runner.mode === 'chroot' || !mounts.plan.dev);
    if (inRootfs && command.script) placedScript = await scriptInRootfs(ctx.rootfs, command.script);
    const script = inRootfs ? undefined : command.script;
    if (specs.length > 0 || script)
      prepared = await prepareRunMounts(specs, { rootfs: ctx.rootfs, env: mountEnv, at: ins.at, script });
    ctx.logger.info(`RUN ${display}`, {
      isolation: runner.mode,
      ...(specs.length ? { mounts: specs.map((s) => s.type).join(',') } : {}),
      ...(network === 'none' ? { network } : {}),
    });
    result = await runner.run(
      {
        argv: command.argv,
        // Secrets exposed with `env=` come last, so they win over an ENV of the same name (BuildKit).
        env: [...runEnv(state, who.home, ctx.proxyArgs), ...(prepared?.env ?? [])],
        cwd,
        user: { uid: who.uid, gid: who.gid },
        rootfs: ctx.rootfs.root,
        mounts: mounts.plan,
        ...(prepared ? { extra: prepared.extra } : {}),
        ...(network === 'none' ? { network } : {}),
        onOutput: (chunk) => {
          tail.push(chunk);
          ctx.output(chunk);
        },
      },
      ctx.signal,
    );
  } finally {
    await prepared?.cleanup();
    await placedScript?.cleanup();
    await mounts.cleanup();
  }
  ctx.signal.throwIfAborted();
  if (result.exitStatus !== 0) {
    // Kiln exits with the command's own status, as Kaniko does (run-status.ts).
    const failure = runFailure(result);
    const output = tail.text();
    const options: { hint?: string; exitCode?: number } = {};
    // In chroot mode a command may fail only for want of what namespaces give (/proc, /sys): say so.
    if (runner.mode === 'chroot') options.hint = CHROOT_FAILURE_HINT;
    if (failure.exitCode !== undefined) options.exitCode = failure.exitCode;
    throw new StepError(
      `RUN ${display}: the command ${failure.said}` + (output ? `\n--- last output ---\n${output}` : ''),
      ins.at,
      options,
    );
  }
  // Where Kiln itself made and removed entries for the step (mount points, chroot /dev nodes):
  // the mtime those directories have now is Kiln's doing, not the step's.
  const kilnTouched = [
    ...(prepared?.touchedDirs() ?? []),
    ...(placedScript?.touchedDirs() ?? []),
    ...(runner.mode === 'chroot' && mounts.plan.dev ? ['/dev'] : []),
  ];
  return { state, changes: snapshot ? await snapshot.end({ kilnTouched }) : [], fromSnapshot: true };
}
