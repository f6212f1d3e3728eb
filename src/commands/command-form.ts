import type { CmdInstruction, CommandForm, EntrypointInstruction } from '../dockerfile/instructions.js';
import { DEFAULT_SHELL, type StageState, type StepResult } from './step.js';

/** argv of a shell- or exec-form command: shell form runs through the stage's SHELL (default `/bin/sh -c`). */
export function commandArgv(form: CommandForm, state: StageState): string[] {
  if (form.form === 'exec') return form.argv;
  return [...(state.config.Shell ?? DEFAULT_SHELL), form.command];
}

/** CMD: the default arguments of the container. */
export function cmd(ins: CmdInstruction, state: StageState): StepResult {
  return {
    state: { ...state, cmdSet: true, config: { ...state.config, Cmd: commandArgv(ins.command, state) } },
    changes: [],
  };
}

/** ENTRYPOINT: also clears a CMD inherited from the base image, unless this stage set one (Docker's rule). */
export function entrypoint(ins: EntrypointInstruction, state: StageState): StepResult {
  const config = { ...state.config, Entrypoint: commandArgv(ins.command, state) };
  if (!state.cmdSet) config.Cmd = null;
  return { state: { ...state, config }, changes: [] };
}
