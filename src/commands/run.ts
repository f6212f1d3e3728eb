/**
 * RUN: executes a command inside the rootfs with the chosen ProcessRunner, as the stage's USER,
 * in its WORKDIR, with its ENV plus the ARGs in scope (Docker passes build args to RUN but does
 * not persist them). What changed is found by comparing a file index of the rootfs taken before
 * and after (DESIGN.md §4).
 */
import { DockerfileError, StepError } from '../errors.js';
import type { RunInstruction } from '../dockerfile/instructions.js';
import type { ProcessRunner } from '../exec/runner.js';
import { resolveUser } from '../exec/users.js';
import { mkdirAll } from '../rootfs/mkdir.js';
import { prepareMountPoints } from '../rootfs/mount-points.js';
import { readRootfsFile } from '../rootfs/read.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import { commandArgv } from './command-form.js';
import { DEFAULT_PATH, type StageState, type StepIO, type StepResult } from './step.js';
import { OutputTail } from './output-tail.js';

export interface RunDeps extends StepIO {
  rootfs: Rootfs;
  runner: ProcessRunner;
  /** Where the step's output goes while it runs (the build's stdout). */
  output: (chunk: Buffer) => void;
  /** Finds what the command changed in the rootfs. */
  snapshotter: Snapshotter;
  /** Docker's predefined proxy ARGs given with --build-arg: in RUN's environment without an ARG line. */
  proxyArgs: ReadonlyMap<string, string>;
}

/** Flags of RUN that Kiln does not implement yet: refused, never silently ignored. */
const UNSUPPORTED = ['mount', 'network', 'security'];

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

export async function run(ins: RunInstruction, state: StageState, deps: RunDeps): Promise<StepResult> {
  for (const f of UNSUPPORTED) {
    if (ins.flags[f] !== undefined) throw new DockerfileError(`RUN --${f} is not supported yet`, ins.at, { source: ins.text });
  }
  if (ins.heredocs.length > 0) throw new DockerfileError('RUN with a heredoc is not supported yet', ins.at, { source: ins.text });
  const argv = commandArgv(ins.command, state);
  const display = ins.command.form === 'shell' ? ins.command.command : JSON.stringify(ins.command.argv);
  const userSpec = state.config.User || 'root';
  const who = resolveUser(userSpec, await readRootfsFile(deps.rootfs, '/etc/passwd'), await readRootfsFile(deps.rootfs, '/etc/group'));
  if ('error' in who) throw new StepError(`RUN ${display}: ${who.error}`, ins.at);
  const cwd = state.config.WorkingDir || '/';
  // BuildKit creates a missing working directory for RUN; it becomes part of this step's layer.
  await mkdirAll(deps.rootfs, cwd);

  const snapshot = await deps.snapshotter.begin();
  const mounts = await prepareMountPoints(deps.rootfs);
  const tail = new OutputTail(40, 8192);
  let result;
  try {
    deps.logger.info(`RUN ${display}`, { isolation: deps.runner.mode });
    result = await deps.runner.run(
      {
        argv,
        env: runEnv(state, who.home, deps.proxyArgs),
        cwd,
        user: { uid: who.uid, gid: who.gid },
        rootfs: deps.rootfs.root,
        mounts: mounts.plan,
        onOutput: (chunk) => {
          tail.push(chunk);
          deps.output(chunk);
        },
      },
      deps.signal,
    );
  } finally {
    await mounts.cleanup();
  }
  deps.signal.throwIfAborted();
  if (result.exitStatus !== 0) {
    const status = result.exitStatus === null ? `was killed by ${result.signal ?? 'a signal'}` : `exited with status ${result.exitStatus}`;
    const output = tail.text();
    throw new StepError(`RUN ${display}: the command ${status}` + (output ? `\n--- last output ---\n${output}` : ''), ins.at);
  }
  return { state, changes: await snapshot.end() };
}
