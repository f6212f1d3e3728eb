/**
 * The build plan: which stages to build, in which order, each one's base (scratch, an image,
 * or an earlier stage) and the stages and images its COPY --from lines read. Pure: a function
 * of the parsed Dockerfile and the options (`--target`, `--skip-unused-stages`, build args).
 */
import { DockerfileError, UsageError } from '../errors.js';
import type { Instruction, ParsedDockerfile, Stage } from '../dockerfile/instructions.js';
import { expandWord, ShellExpansionError } from '../dockerfile/shell-lex.js';
import { parsePlatform, type Platform } from '../oci/platform.js';
import { globalArgValues } from './build-args.js';
import { platformArgs } from './platform-args.js';

export type StageBase = { kind: 'scratch' } | { kind: 'image'; ref: string } | { kind: 'stage'; index: number };

/** Where a `COPY --from` (or `RUN --mount=from=`) reads: an earlier stage or an image. */
export type CopySource = { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

export interface PlannedStage {
  stage: Stage;
  base: StageBase;
  /** The platform the base is pulled for (`FROM --platform`, else the target platform). */
  platform: Platform;
  /** Earlier stages this one needs built first. */
  dependsOn: number[];
}

export interface BuildPlan {
  /** Global ARG values (including the automatic platform ARGs), visible in FROM lines. */
  globals: Map<string, string | undefined>;
  /** The stages to build, in order; the last one is the target. */
  stages: PlannedStage[];
  /** Names the global ARGs declare, used or not (`unused-args.ts`: such a build arg is consumed). */
  declaredGlobals: Set<string>;
}

export interface PlanOptions {
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  skipUnusedStages: boolean;
  targetPlatform: Platform;
  buildPlatform: Platform;
}

/** Finds a stage by name (case-insensitive, as Docker) or index among `stages[0..before)`. */
export function findStage(stages: readonly Stage[], nameOrIndex: string, before: number): number | undefined {
  const lower = nameOrIndex.toLowerCase();
  const byName = stages.findIndex((s, i) => i < before && s.from.stageName === lower);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(nameOrIndex)) {
    const i = Number(nameOrIndex);
    if (i < before) return i;
  }
  return undefined;
}

/** Resolves a `--from` value seen in stage `at`: an earlier stage, else an image reference. */
export function copySource(stages: readonly Stage[], value: string, at: number): CopySource {
  const index = findStage(stages, value, at);
  if (index !== undefined) return { kind: 'stage', index };
  if (stages.some((s, i) => i >= at && s.from.stageName === value.toLowerCase())) {
    throw new UsageError(`--from=${value} refers to a stage that is not defined before it`);
  }
  return { kind: 'image', ref: value };
}

/** The `--from` of COPY/ADD and the `from=` of each `RUN --mount`: stages the instruction reads. */
function fromValues(ins: Instruction): string[] {
  if (ins.kind === 'COPY' || ins.kind === 'ADD') return ins.from !== undefined ? [ins.from] : [];
  if (ins.kind !== 'RUN') return [];
  return ins.mounts.flatMap((m) =>
    m
      .split(',')
      .map((kv) => /^from=(.+)$/i.exec(kv.trim())?.[1])
      .filter((v): v is string => v !== undefined),
  );
}

function planStage(
  df: ParsedDockerfile,
  i: number,
  globals: Record<string, string | undefined>,
  opts: PlanOptions,
): PlannedStage {
  const stage = df.stages[i];
  if (!stage) throw new Error(`no stage ${i}`);
  const from = stage.from;
  const expand = (w: string): string => {
    try {
      return expandWord(w, globals, df.escape);
    } catch (err) {
      // Only a malformed word is the Dockerfile's fault; anything else is a bug and stays one.
      if (!(err instanceof ShellExpansionError)) throw err;
      throw new DockerfileError(`FROM: ${err.message}`, from.at, { source: from.text });
    }
  };
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
  let base: StageBase;
  const earlier = findStage(df.stages, image, i);
  if (earlier !== undefined && !/^\d+$/.test(image)) {
    base = { kind: 'stage', index: earlier };
    dependsOn.add(earlier);
  } else if (image.toLowerCase() === 'scratch') {
    base = { kind: 'scratch' };
  } else {
    base = { kind: 'image', ref: image };
  }
  for (const ins of stage.instructions) {
    for (const raw of fromValues(ins)) {
      try {
        const src = copySource(df.stages, expand(raw), i);
        if (src.kind === 'stage') dependsOn.add(src.index);
      } catch (err) {
        if (err instanceof UsageError)
          throw new DockerfileError(`${ins.kind} ${err.message}`, ins.at, { source: ins.text });
        throw err;
      }
    }
  }
  return { stage, base, platform, dependsOn: [...dependsOn].sort((a, b) => a - b) };
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
  const scope = Object.fromEntries(globals);
  let target = df.stages.length - 1;
  if (opts.target !== undefined) {
    const found = findStage(df.stages, opts.target, df.stages.length);
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
  const planned = df.stages.slice(0, target + 1).map((_, i) => planStage(df, i, scope, opts));
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
    stages: planned.filter((_, i) => wanted.has(i)),
    declaredGlobals: new Set(df.globalArgs.flatMap((g) => g.args.map((a) => a.name))),
  };
}
