/**
 * `RUN --mount`, the step's half: the plan read each mount (dockerfile/mount-spec.ts) and resolved
 * its `from=` (plan/sources.ts); here its values are expanded with the stage's ARGs and ENV, checked,
 * and its target made absolute against the WORKDIR. A bad value is a DockerfileError at the RUN.
 */
import type { RunInstruction } from '../dockerfile/instructions.js';
import { MountSpecError } from '../dockerfile/mount-fields.js';
import { finishMountSpec, type MountSpec, type MountSyntax } from '../dockerfile/mount-spec.js';
import { mountError, type ResolvedFrom } from '../plan/sources.js';
import { expand } from './expand.js';
import type { StageState } from './step.js';

/** A mount ready to prepare: a bind's `from` is the stage or image the plan resolved. */
export type RunMountSpec = MountSpec<ResolvedFrom>;

/** Finishes the planned `--mount`s of `ins` in the stage's scope. */
export function runMountSpecs(
  ins: RunInstruction,
  state: StageState,
  planned: readonly MountSyntax<ResolvedFrom>[],
): RunMountSpec[] {
  return planned.map((syntax) => {
    try {
      return finishMountSpec(syntax, (word) => expand(ins, state, word), state.config.WorkingDir || '/');
    } catch (err) {
      if (!(err instanceof MountSpecError)) throw err;
      throw mountError(ins, syntax.text, err);
    }
  });
}
