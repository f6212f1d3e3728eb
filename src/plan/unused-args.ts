/**
 * The `--build-arg`s no ARG of the build declares, for the warning Docker prints as "One or more
 * build-args [X] were not consumed". Derived from the plan, so no step has to record what it used.
 * PURE.
 */
import type { StageInstruction } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { BuildPlan, PlannedStage } from './planner.js';
import { PROXY_ARGS } from './platform-args.js';

/**
 * The build args, in the order given, that neither a global ARG (before the first FROM, used or
 * not) nor an ARG that runs in a planned stage declares. An ARG runs in a stage when the stage
 * holds it, or when its base is an earlier stage whose `ONBUILD ARG` trigger fires in it. Stages
 * left out by `--target` or `--skip-unused-stages` do not count: their ARGs never run. Docker's
 * predefined proxy args are never reported: RUN sees them without an ARG.
 */
export function unusedBuildArgs(plan: BuildPlan, buildArgs: ReadonlyMap<string, string>): string[] {
  const declared = new Set(plan.declaredGlobals);
  for (const ps of plan.stages) {
    for (const ins of [...baseTriggers(plan, ps), ...ps.stage.instructions]) {
      if (ins.kind === 'ARG') for (const a of ins.args) declared.add(a.name);
    }
  }
  return [...buildArgs.keys()].filter((k) => !declared.has(k) && !PROXY_ARGS.includes(k));
}

/**
 * The ONBUILD triggers of a stage's base when the base is an earlier stage: they run first in this
 * stage (`commands/onbuild.ts`). An image base's triggers are not known before it is pulled.
 */
function baseTriggers(plan: BuildPlan, ps: PlannedStage): StageInstruction[] {
  if (ps.base.kind !== 'stage') return [];
  const index = ps.base.index;
  const base = plan.stages.find((s) => s.stage.index === index);
  return (base?.stage.instructions ?? []).flatMap((ins) =>
    // Parsed as `commands/onbuild.ts` parses them when they fire; the parser checked them already.
    ins.kind === 'ONBUILD'
      ? (parseDockerfile(`FROM scratch\n${ins.trigger}\n`, 'ONBUILD').stages[0]?.instructions ?? [])
      : [],
  );
}
