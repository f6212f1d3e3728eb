import type { LabelInstruction } from '../dockerfile/instructions.js';
import { expand } from './expand.js';
import type { StageState, StepResult } from './step.js';

/** LABEL: adds or replaces labels; values are expanded like ENV values. */
export function label(ins: LabelInstruction, state: StageState): StepResult {
  const labels: Record<string, string> = { ...(state.config.Labels ?? {}) };
  for (const p of ins.pairs) labels[expand(ins, state, p.key)] = expand(ins, state, p.value);
  return { state: { ...state, config: { ...state.config, Labels: labels } }, changes: [] };
}
