/**
 * ONBUILD (Dockerfile reference, "ONBUILD"): the trigger text is appended to the config's
 * `OnBuild`. When a later build uses the image (or a later stage uses the stage) as its base, the
 * triggers run first, in order, as if written right after FROM, and are then cleared from the
 * child's config — BuildKit `initOnBuildTriggers` and `d.image.Config.OnBuild = nil`. PURE.
 */
import { DockerfileError, type SourceLocation } from '../errors.js';
import type { OnbuildInstruction, StageInstruction } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { StageState, StepResult } from './step.js';

/** ONBUILD: records the trigger; it runs in builds that use this image as a base. */
export function onbuild(ins: OnbuildInstruction, state: StageState): StepResult {
  return {
    state: { ...state, config: { ...state.config, OnBuild: [...(state.config.OnBuild ?? []), ins.trigger] } },
    changes: [],
  };
}

/**
 * The base image's triggers as instructions located at the child's FROM (`at`), where Docker
 * reports their errors. A trigger must be one instruction other than ONBUILD, FROM and
 * MAINTAINER (Docker refuses those when the ONBUILD is written; a hand-made image could hold any).
 */
export function onbuildTriggers(
  triggers: readonly string[] | null | undefined,
  at: SourceLocation,
  source: string,
): StageInstruction[] {
  return (triggers ?? []).map((trigger) => {
    const invalid = (why: string, cause?: unknown): DockerfileError =>
      new DockerfileError(`the base image's ONBUILD trigger ${JSON.stringify(trigger)} ${why}`, at, {
        source,
        ...(cause === undefined ? {} : { cause }),
      });
    let parsed;
    try {
      // Triggers are parsed on their own, with the default escape character, as BuildKit does.
      parsed = parseDockerfile(`FROM scratch\n${trigger}\n`, 'ONBUILD');
    } catch (err) {
      if (err instanceof DockerfileError)
        throw invalid(`is invalid: ${err.message.split('\n')[0]?.replace(/^ONBUILD:\d+: /, '') ?? ''}`, err);
      throw err;
    }
    const [stage, ...more] = parsed.stages;
    const ins = stage?.instructions[0];
    if (ins === undefined || more.length > 0 || (stage?.instructions.length ?? 0) !== 1)
      throw invalid('should be a single instruction');
    if (ins.kind === 'ONBUILD' || ins.kind === 'MAINTAINER') throw invalid(`is not allowed as a trigger`);
    return { ...ins, at };
  });
}

/** The stage state once the base's triggers have run: `OnBuild` cleared, as Docker does. */
export function withoutTriggers(state: StageState): StageState {
  const config = { ...state.config };
  delete config.OnBuild;
  return { ...state, config };
}
