/**
 * What an instruction reads besides the build context, resolved once for the build: the earlier
 * stage or the image a COPY/ADD `--from` names, and each `RUN --mount` read
 * (dockerfile/mount-spec.ts) with its `from=` resolved the same way. A `--from` value is expanded
 * with the global ARGs only, as BuildKit does (moby/buildkit#2374: a stage's own variables would
 * hide the dependencies between stages until the build runs); a mount's `from=` is never expanded.
 * The executor reads these instead of the flags, and resolves a pulled base's ONBUILD triggers
 * with the same functions. PURE.
 */
import { DockerfileError } from '../errors.js';
import type { RunInstruction, StageInstruction } from '../dockerfile/instructions.js';
import { MountSpecError } from '../dockerfile/mount-fields.js';
import { parseMountSyntax, type MountSyntax } from '../dockerfile/mount-spec.js';
import { parseReference, ReferenceSyntaxError, type Reference } from '../oci/reference.js';

/** An image named in the Dockerfile: as written (after expansion) and parsed. */
export interface ImageRef {
  kind: 'image';
  /** The name as written, after expansion: logs show it, and the build pulls each one once. */
  ref: string;
  reference: Reference;
}

/** Where a `COPY --from` (or `RUN --mount from=`) reads: an earlier stage or an image. */
export type CopySource = { kind: 'stage'; index: number } | ImageRef;

/** A `--from` value (messages quote it) and what it names. */
export interface ResolvedFrom {
  value: string;
  source: CopySource;
}

/** What the plan resolved for one instruction; empty for instructions that read no other stage or image. */
export interface StepSources {
  /** COPY/ADD `--from`. */
  from?: ResolvedFrom;
  /** RUN `--mount`s in order: read and checked as far as expansion allows, `from=` resolved. */
  mounts?: readonly MountSyntax<ResolvedFrom>[];
}

/** Where an instruction is: which stages it may read, and how its `--from` values expand. */
export interface SourceScope {
  /** Every stage's name in the Dockerfile (lower-cased; undefined: unnamed), in order. */
  stageNames: readonly (string | undefined)[];
  /** The instruction's stage: only earlier stages can be read. */
  stage: number;
  /** Expands a COPY/ADD `--from` value with the global ARGs (a malformed word is a DockerfileError). */
  expand: (word: string) => string;
  /** The Dockerfile's escape character (what expansion would change in a mount value). */
  escape: string;
}

/** An instruction's sources in two steps: the stages it reads now; references and mount checks on `finish`. */
export interface SourcesDraft {
  /** Earlier stages the instruction reads. */
  stages: number[];
  /** Parses image references and throws a malformed mount's error: only for stages the build runs. */
  finish(): StepSources;
}

/** Finds a stage by name (case-insensitive, as Docker) or index among the stages before `before`. */
export function findStage(
  stageNames: readonly (string | undefined)[],
  nameOrIndex: string,
  before: number,
): number | undefined {
  const lower = nameOrIndex.toLowerCase();
  const byName = stageNames.findIndex((s, i) => i < before && s === lower);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(nameOrIndex)) {
    const i = Number(nameOrIndex);
    if (i < before) return i;
  }
  return undefined;
}

/** Parses an image name; a malformed one is a DockerfileError made by `fail`. */
export function imageRef(ref: string, fail: (message: string, cause: unknown) => DockerfileError): ImageRef {
  try {
    return { kind: 'image', ref, reference: parseReference(ref) };
  } catch (err) {
    if (err instanceof ReferenceSyntaxError) throw fail(err.message, err);
    throw err;
  }
}

type Named = { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

/** What a `--from` value names seen from `scope.stage`: an earlier stage, else an image. */
function named(ins: StageInstruction, value: string, scope: SourceScope): Named {
  const index = findStage(scope.stageNames, value, scope.stage);
  if (index !== undefined) return { kind: 'stage', index };
  if (scope.stageNames.some((s, i) => i >= scope.stage && s === value.toLowerCase()))
    throw new DockerfileError(`${ins.kind} --from=${value} refers to a stage that is not defined before it`, ins.at, {
      source: ins.text,
    });
  return { kind: 'image', ref: value };
}

function resolved(value: string, n: Named, fail: (message: string, cause: unknown) => DockerfileError): ResolvedFrom {
  return { value, source: n.kind === 'stage' ? n : imageRef(n.ref, fail) };
}

/** A `--mount` error at its RUN, as the RUN step reports the ones only expansion reveals. */
export function mountError(ins: RunInstruction, text: string, err: MountSpecError): DockerfileError {
  return new DockerfileError(`RUN --mount=${text}: ${err.message}`, ins.at, {
    source: ins.text,
    cause: err,
    ...(err.hint ? { hint: err.hint } : {}),
  });
}

function runSources(ins: RunInstruction, scope: SourceScope): SourcesDraft {
  const stages: number[] = [];
  const mounts = ins.mounts.map((text) => {
    try {
      const syntax = parseMountSyntax(text, scope.escape);
      const n = syntax.from === undefined ? undefined : named(ins, syntax.from, scope);
      if (n?.kind === 'stage') stages.push(n.index);
      return (): MountSyntax<ResolvedFrom> => {
        const { from, ...rest } = syntax;
        if (from === undefined || n === undefined) return rest;
        const fail = (m: string, cause: unknown): DockerfileError =>
          new DockerfileError(`RUN --mount=${text}: ${m}`, ins.at, { source: ins.text, cause });
        return { ...rest, from: resolved(from, n, fail) };
      };
    } catch (err) {
      if (!(err instanceof MountSpecError)) throw err;
      return () => {
        throw mountError(ins, text, err);
      };
    }
  });
  return { stages, finish: () => ({ mounts: mounts.map((finish) => finish()) }) };
}

/** Resolves what `ins`, in stage `scope.stage`, reads; a `--from` naming a later stage fails at once. */
export function draftSources(ins: StageInstruction, scope: SourceScope): SourcesDraft {
  if (ins.kind === 'RUN') return runSources(ins, scope);
  if ((ins.kind !== 'COPY' && ins.kind !== 'ADD') || ins.from === undefined) return { stages: [], finish: () => ({}) };
  const value = scope.expand(ins.from);
  // An empty value (`--from=$UNSET`) reads the context, as no --from at all.
  if (value === '') return { stages: [], finish: () => ({}) };
  const n = named(ins, value, scope);
  const fail = (m: string, cause: unknown): DockerfileError =>
    new DockerfileError(`${ins.kind} --from=${value}: ${m}`, ins.at, { source: ins.text, cause });
  return { stages: n.kind === 'stage' ? [n.index] : [], finish: () => ({ from: resolved(value, n, fail) }) };
}

/** {@link draftSources} finished at once: for a base image's ONBUILD triggers, known only once it is pulled. */
export function resolveSources(ins: StageInstruction, scope: SourceScope): StepSources {
  return draftSources(ins, scope).finish();
}
