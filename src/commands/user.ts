import { DockerfileError } from '../errors.js';
import type { UserInstruction } from '../dockerfile/instructions.js';
import { userSpecError } from '../exec/users.js';
import { expand } from './expand.js';
import type { StageState, StepResult } from './step.js';

/** USER: sets the user (and optional group) later RUNs and the container run as; resolved at RUN time. */
export function user(ins: UserInstruction, state: StageState): StepResult {
  const value = expand(ins, state, ins.user);
  if (value === '') throw new DockerfileError('USER requires a user name or uid', ins.at, { source: ins.text });
  // Refused here, at its own line, rather than at the first RUN: the kernel would wrap it (2^32 is root).
  const rangeError = userSpecError(value);
  if (rangeError) throw new DockerfileError(`USER ${value}: ${rangeError}`, ins.at, { source: ins.text });
  return { state: { ...state, config: { ...state.config, User: value } }, changes: [] };
}
