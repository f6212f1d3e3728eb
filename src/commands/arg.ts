import type { ArgInstruction } from '../dockerfile/instructions.js';
import { expand } from './expand.js';
import type { StageState, StepResult } from './step.js';

/** Values an ARG can take besides its default: `--build-arg`s and the global ARGs before the first FROM. */
export interface ArgScope {
  buildArgs: ReadonlyMap<string, string>;
  globals: ReadonlyMap<string, string | undefined>;
}

/**
 * ARG: declares a build variable in the stage. Precedence as in Docker: a `--build-arg` value,
 * else the declared default (expanded), else the value of the same-named global ARG.
 */
export function arg(ins: ArgInstruction, state: StageState, scope: ArgScope): StepResult {
  const args = new Map(state.args);
  for (const a of ins.args) {
    let value: string | undefined;
    if (scope.buildArgs.has(a.name)) {
      value = scope.buildArgs.get(a.name);
    } else if (a.defaultValue !== undefined) {
      value = expand(ins, { ...state, args }, a.defaultValue);
    } else {
      value = scope.globals.get(a.name);
    }
    args.set(a.name, value);
  }
  return { state: { ...state, args }, changes: [] };
}
