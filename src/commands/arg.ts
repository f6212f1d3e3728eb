import type { ArgInstruction } from '../dockerfile/instructions.js';
import { expand } from './expand.js';
import type { StageState, StepResult } from './step.js';

/** Values an ARG can take besides its default: `--build-arg`s and the global ARGs before the first FROM. */
export interface ArgScope {
  buildArgs: ReadonlyMap<string, string>;
  globals: ReadonlyMap<string, string | undefined>;
}

/**
 * ARG: declares a build variable in the stage. Precedence as in BuildKit (dockerfile2llb
 * `dispatchArg`): a `--build-arg` value, else the declared default, expanded against the stage's
 * variables so far, else the value of the same-named global ARG, else the value the stage already
 * has. That last one is an ARG declared earlier in the stage or inherited from the stage it is
 * built `FROM` ({@link StageState.args}): BuildKit leaves the variable as it was, so a bare
 * `ARG NAME` keeps an inherited value and `ARG NAME="$NAME-dev"` extends it (Kaniko #1911).
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
      value = scope.globals.get(a.name) ?? args.get(a.name);
    }
    args.set(a.name, value);
  }
  return { state: { ...state, args }, changes: [] };
}
