import { posix } from 'node:path';
import { DockerfileError } from '../errors.js';
import type { WorkdirInstruction } from '../dockerfile/instructions.js';
import { resolveFileOwner, type FileOwner } from '../exec/users.js';
import { mkdirAll } from '../rootfs/mkdir.js';
import { readRootfsFile } from '../rootfs/read.js';
import { expand } from './expand.js';
import type { StageState, StepContext, StepResult } from './step.js';

/** A USER value made of numbers only (`1000`, `1000:50`): its owner needs no lookup in the image. */
const NUMERIC_SPEC = /^\d*(:\d*)?$/;

/**
 * WORKDIR: resolves against the current working directory, as Docker does, and creates the
 * directory when missing (the created directories are the step's layer; none if it existed).
 * The directories it creates belong to the stage's USER, as BuildKit's `Mkdir … WithUser` makes
 * them, so that a later RUN as that user can write there; existing ones keep their owner.
 */
export async function workdir(ins: WorkdirInstruction, state: StageState, ctx: StepContext): Promise<StepResult> {
  const value = expand(ins, state, ins.path);
  if (value === '') throw new DockerfileError('WORKDIR requires a path', ins.at, { source: ins.text });
  const dir = posix.resolve(state.config.WorkingDir || '/', value);
  const owner = await userOwner(ins, state, ctx);
  const created = await mkdirAll(ctx.rootfs, dir, { uid: owner.uid, gid: owner.gid });
  if (created.length > 0 && owner.unknown.length > 0)
    ctx.logger.warn(
      `WORKDIR ${dir}: ${owner.unknown.join(' and ')} not found in the image; ` +
        `the directories it made belong to ${owner.uid}:${owner.gid}, as BuildKit does`,
    );
  return {
    state: { ...state, config: { ...state.config, WorkingDir: dir } },
    changes: created.map((path) => ({ kind: 'upsert', path })),
  };
}

/** The owner of what WORKDIR creates: root without a USER, else the USER by BuildKit's rule (exec/users.ts). */
async function userOwner(ins: WorkdirInstruction, state: StageState, ctx: StepContext): Promise<FileOwner> {
  const spec = state.config.User ?? '';
  if (spec === '') return { uid: 0, gid: 0, unknown: [] };
  const names = !NUMERIC_SPEC.test(spec);
  const owner = resolveFileOwner(
    spec,
    names ? await readRootfsFile(ctx.rootfs, '/etc/passwd') : undefined,
    names ? await readRootfsFile(ctx.rootfs, '/etc/group') : undefined,
  );
  // An id that would wrap to another (4294967296 is root) is the Dockerfile's fault, as for RUN.
  if ('error' in owner) throw new DockerfileError(`WORKDIR ${ins.path}: ${owner.error}`, ins.at, { source: ins.text });
  return owner;
}
