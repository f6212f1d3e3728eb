import type { EnvInstruction } from '../dockerfile/instructions.js';
import { expand } from './expand.js';
import { withEnv, type StageState, type StepResult } from './step.js';

/** ENV: sets variables in the image config. All pairs of one instruction expand against the environment before it (Docker: `ENV abc=bye def=$abc` sees the old abc). */
export function env(ins: EnvInstruction, state: StageState): StepResult {
  const pairs = ins.pairs.map((p) => [expand(ins, state, p.key), expand(ins, state, p.value)] as const);
  let list = state.config.Env ?? [];
  for (const [k, v] of pairs) list = withEnv(list, k, v);
  return { state: { ...state, config: { ...state.config, Env: list } }, changes: [] };
}
