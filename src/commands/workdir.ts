import { posix } from 'node:path';
import { DockerfileError } from '../errors.js';
import type { WorkdirInstruction } from '../dockerfile/instructions.js';
import { mkdirAll } from '../rootfs/mkdir.js';
import { expand } from './expand.js';
import type { StageState, StepContext, StepResult } from './step.js';

/**
 * WORKDIR: resolves against the current working directory, as Docker does, and creates the
 * directory when missing (the created directories are the step's layer; none if it existed).
 */
export async function workdir(ins: WorkdirInstruction, state: StageState, ctx: StepContext): Promise<StepResult> {
  const value = expand(ins, state, ins.path);
  if (value === '') throw new DockerfileError('WORKDIR requires a path', ins.at, { source: ins.text });
  const dir = posix.resolve(state.config.WorkingDir || '/', value);
  const created = await mkdirAll(ctx.rootfs, dir);
  return {
    state: { ...state, config: { ...state.config, WorkingDir: dir } },
    changes: created.map((path) => ({ kind: 'upsert', path })),
  };
}
