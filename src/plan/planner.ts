/**
 * The build plan: which stages to build, in which order, each one's base (scratch, a parsed image
 * reference, or an earlier stage) and what each instruction reads: the stage or image of a
 * COPY/ADD `--from`, the `RUN --mount`s with their `from=` (sources.ts). The executor needs nothing
 * else, and every malformed reference or mount is reported here, at its line, before any pull.
 * Pure: a function of the parsed Dockerfile and the options (`--target`, `--skip-unused-stages`,
 * build args).
 */
import { DockerfileError, UsageError } from '../errors.js';
import type { FromInstruction, ParsedDockerfile, Stage, StageInstruction } from '../dockerfile/instructions.js';
import { expandWord, ShellExpansionError, type ShellEnv } from '../dockerfile/shell-lex.js';
import { parsePlatform, type Platform } from '../oci/platform.js';
import { globalArgValues } from './build-args.js';
import { platformArgs } from './platform-args.js';
import { draftSources, findStage, imageRef, type ImageRef, type SourceScope, type StepSources } from './sources.js';

/** A stage's base: nothing, an image (parsed), or an earlier stage. */
export type StageBase = { kind: 'scratch' } | ImageRef | { kind: 'stage'; index: number };

export interface PlannedStage {
  stage: Stage;
  base: StageBase;
  /** The platform the base is pulled for (`FROM --platform`, else the target platform). */
  platform: Platform;
  /** Earlier stages this one needs built first. */
  dependsOn: number[];
  /** What each COPY/ADD and RUN of the stage reads, resolved: the executor reads these, not the flags. */
  sources: ReadonlyMap<StageInstruction, StepSources>;
}

export interface BuildPlan {
  /** Global ARG values (including the automatic platform ARGs), visible in FROM lines. */
  globals: Map<string, string | undefined>;
  /** The stages to build, in order; the last one is the target. */
  stages: PlannedStage[];
  /** Names the global ARGs declare, used or not (`unused-args.ts`: such a build arg is consumed). */
  declaredGlobals: Set<string>;
  /** The Dockerfile's escape character (`# escape=`). */
  escape: '\\' | '`';
  /** Every stage's name in the Dockerfile (lower-cased; undefined: unnamed), planned or not, in order. */
  stageNames: readonly (string | undefined)[];
}

export interface PlanOptions {
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  skipUnusedStages: boolean;
  targetPlatform: Platform;
  buildPlatform: Platform;
}

/**
 * Expands a word of a stage's FROM line, or a `--from` value in the stage, with the global ARGs.
 * A malformed word is a DockerfileError at the FROM line (for a `--from` value too, as before).
 */
function fromExpander(from: FromInstruction, globals: ShellEnv, escape: string): (word: string) => string {
  return (w) => {
    try {
      return expandWord(w, globals, escape);
    } catch (err) {
      // Only a malformed word is the Dockerfile's fault; anything else is a bug and stays one.
      if (!(err instanceof ShellExpansionError)) throw err;
      throw new DockerfileError(`FROM: ${err.message}`, from.at, { source: from.text });
    }
  };
}

/** Where the instructions of planned stage `ps` are, to resolve a pulled base's ONBUILD triggers there. */
export function sourceScope(plan: BuildPlan, ps: PlannedStage): SourceScope {
  return {
    stageNames: plan.stageNames,
    stage: ps.stage.index,
    expand: fromExpander(ps.stage.from, Object.fromEntries(plan.globals), plan.escape),
    escape: plan.escape,
  };
}

/** A stage planned up to its image references, which are parsed only if the build runs the stage. */
interface StageDraft {
  dependsOn: number[];
  finish(): PlannedStage;
}

/** What every stage is planned with. */
interface PlanContext {
  df: ParsedDockerfile;
  /** The global ARGs in scope of FROM lines and `--from` values. */
  globals: ShellEnv;
  stageNames: readonly (string | undefined)[];
  opts: PlanOptions;
}

function planStage(i: number, ctx: PlanContext): StageDraft {
  const { df, globals, stageNames, opts } = ctx;
  const stage = df.stages[i];
  if (!stage) throw new Error(`no stage ${i}`);
  const from = stage.from;
  const expand = fromExpander(from, globals, df.escape);
  const image = expand(from.image);
  if (image === '')
    throw new DockerfileError('FROM: the image name expands to an empty string (is a build arg missing?)', from.at, {
      source: from.text,
    });
  let platform = opts.targetPlatform;
  const pflag = from.platform;
  if (pflag !== undefined) {
    const p = parsePlatform(expand(pflag));
    if (!p)
      throw new DockerfileError(`FROM --platform: "${expand(pflag)}" is not os/arch[/variant]`, from.at, {
        source: from.text,
      });
    platform = p;
  }
  const dependsOn = new Set<number>();
  let base: () => StageBase;
  const earlier = findStage(stageNames, image, i);
  if (earlier !== undefined && !/^\d+$/.test(image)) {
    base = () => ({ kind: 'stage', index: earlier });
    dependsOn.add(earlier);
  } else if (image.toLowerCase() === 'scratch') {
    base = () => ({ kind: 'scratch' });
  } else {
    base = () =>
      imageRef(image, (message, cause) => new DockerfileError(message, from.at, { source: from.text, cause }));
  }
  const scope: SourceScope = { stageNames, stage: i, expand, escape: df.escape };
  const drafts = stage.instructions.map((ins) => {
    const draft = draftSources(ins, scope);
    for (const d of draft.stages) dependsOn.add(d);
    return [ins, draft] as const;
  });
  const sorted = [...dependsOn].sort((a, b) => a - b);
  return {
    dependsOn: sorted,
    finish: () => ({
      stage,
      base: base(),
      platform,
      dependsOn: sorted,
      sources: new Map(drafts.map(([ins, draft]) => [ins, draft.finish()])),
    }),
  };
}

/** Plans the build of `--target` (default: the last stage). */
export function planBuild(df: ParsedDockerfile, opts: PlanOptions): BuildPlan {
  if (df.stages.length === 0)
    throw new DockerfileError('no FROM instruction: a Dockerfile must start with FROM', {
      file: 'Dockerfile',
      line: 1,
      column: 1,
    });
  const declared = globalArgValues(df.globalArgs, opts.buildArgs, df.escape);
  const globals = new Map([...platformArgs(opts.targetPlatform, opts.buildPlatform), ...declared]);
  const stageNames = df.stages.map((s) => s.from.stageName);
  let target = df.stages.length - 1;
  if (opts.target !== undefined) {
    const found = findStage(stageNames, opts.target, df.stages.length);
    if (found === undefined || /^\d+$/.test(opts.target)) {
      const names = df.stages
        .map((s) => s.from.stageName)
        .filter(Boolean)
        .join(', ');
      throw new UsageError(
        `--target "${opts.target}": no stage of that name in the Dockerfile` +
          (names ? ` (stages: ${names})` : ' (no stage is named: use FROM … AS name)'),
      );
    }
    target = found;
  }
  const ctx: PlanContext = { df, globals: Object.fromEntries(globals), stageNames, opts };
  const planned = df.stages.slice(0, target + 1).map((_, i) => planStage(i, ctx));
  let wanted = new Set(planned.map((_, i) => i));
  if (opts.skipUnusedStages) {
    wanted = new Set();
    const visit = (i: number): void => {
      if (wanted.has(i)) return;
      wanted.add(i);
      for (const d of planned[i]?.dependsOn ?? []) visit(d);
    };
    visit(target);
  }
  return {
    globals,
    // Image references are parsed (and malformed mounts reported) only in stages the build runs.
    stages: planned.filter((_, i) => wanted.has(i)).map((d) => d.finish()),
    declaredGlobals: new Set(df.globalArgs.flatMap((g) => g.args.map((a) => a.name))),
    escape: df.escape,
    stageNames,
  };
}
