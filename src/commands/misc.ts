/** Metadata instructions with one field each: STOPSIGNAL, SHELL, MAINTAINER (VOLUME makes directories: volume.ts). */
import { DockerfileError } from '../errors.js';
import type { MaintainerInstruction, ShellInstruction, StopSignalInstruction } from '../dockerfile/instructions.js';
import { expand } from './expand.js';
import type { StageState, StepResult } from './step.js';

export function stopsignal(ins: StopSignalInstruction, state: StageState): StepResult {
  const sig = expand(ins, state, ins.signal);
  if (!/^(SIG[A-Z0-9+-]+|\d+)$/.test(sig))
    throw new DockerfileError(`STOPSIGNAL: invalid signal "${sig}"`, ins.at, { source: ins.text });
  return { state: { ...state, config: { ...state.config, StopSignal: sig } }, changes: [] };
}

export function shell(ins: ShellInstruction, state: StageState): StepResult {
  if (ins.argv.length === 0)
    throw new DockerfileError('SHELL requires a JSON array, e.g. SHELL ["/bin/bash", "-c"]', ins.at, {
      source: ins.text,
    });
  return { state: { ...state, config: { ...state.config, Shell: ins.argv } }, changes: [] };
}

/** MAINTAINER (deprecated) sets the image's `author` field, which lives outside `config`. */
export function maintainer(ins: MaintainerInstruction, state: StageState): StepResult {
  return { state: { ...state, author: ins.name }, changes: [] };
}
