/**
 * The plan holds what the executor needs of each instruction, resolved: the base as a parsed
 * reference, each COPY/ADD `--from` as an earlier stage or a parsed image, each `RUN --mount` read
 * with its `from=` resolved. Every malformed reference or mount fails here, at its line, before
 * anything is pulled — except in stages the build leaves out, which are never pulled either.
 */
import { describe, expect, test } from 'vitest';
import { DockerfileError } from '../errors.js';
import type { StageInstruction } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { Platform } from '../oci/platform.js';
import { planBuild, sourceScope, type BuildPlan, type PlanOptions } from './planner.js';
import { resolveSources, type StepSources } from './sources.js';
import { thrown } from '../../test/support/thrown.js';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

function plan(text: string, opts: Partial<PlanOptions> = {}): BuildPlan {
  return planBuild(parseDockerfile(text), {
    buildArgs: new Map(),
    skipUnusedStages: false,
    targetPlatform: AMD64,
    buildPlatform: AMD64,
    ...opts,
  });
}

/** The sources the plan holds for instruction `n` (0-based) of planned stage `s`. */
function sourcesOf(p: BuildPlan, s: number, n: number): StepSources | undefined {
  const ps = p.stages[s];
  const ins = ps?.stage.instructions[n];
  return ins && ps.sources.get(ins);
}

/** The DockerfileError planning `text` throws: its line and first message line. */
function planError(text: string, opts: Partial<PlanOptions> = {}): { line: number; message: string; exit: number } {
  const err = thrown(() => plan(text, opts));
  if (!(err instanceof DockerfileError)) throw err;
  return { line: err.at.line, message: err.message.split('\n')[0] ?? '', exit: err.exitCode };
}

describe('bases', () => {
  test('an image base is parsed, with the name as written kept', () => {
    expect(plan('FROM busybox:1.36\n').stages[0]?.base).toEqual({
      kind: 'image',
      ref: 'busybox:1.36',
      reference: { registry: 'docker.io', repository: 'library/busybox', tag: '1.36' },
    });
  });

  test('a malformed image is a DockerfileError at its FROM line, whatever stage it is in', () => {
    expect(planError('FROM busybox\nRUN true\nFROM Bad//Name\n')).toEqual({
      line: 3,
      message: expect.stringMatching(/^Dockerfile:3: invalid .*Bad\/\/Name/) as unknown,
      exit: 3,
    });
  });

  test('a malformed image in a stage --skip-unused-stages leaves out is never parsed, as it is never pulled', () => {
    const p = plan('FROM Bad//Name AS unused\nFROM busybox\n', { skipUnusedStages: true });
    expect(p.stages.map((s) => s.stage.index)).toEqual([1]);
  });
});

describe('COPY --from', () => {
  test.each([
    ['an earlier stage by name', 'FROM busybox AS b\nFROM scratch\nCOPY --from=B /x /x\n', { kind: 'stage', index: 0 }],
    ['an earlier stage by index', 'FROM busybox\nFROM scratch\nCOPY --from=0 /x /x\n', { kind: 'stage', index: 0 }],
    [
      'an image',
      'FROM scratch\nCOPY --from=alpine:3 /x /x\n',
      {
        kind: 'image',
        ref: 'alpine:3',
        reference: { registry: 'docker.io', repository: 'library/alpine', tag: '3' },
      },
    ],
  ])('%s is resolved in the plan', (_, text, source) => {
    const p = plan(text);
    const last = p.stages.length - 1;
    expect(sourcesOf(p, last, 0)?.from?.source).toEqual(source);
  });

  test('a global ARG expands in --from (BuildKit: global scope only), and the stage depends on it', () => {
    const p = plan('ARG SRC=builder\nFROM busybox AS builder\nFROM scratch\nARG SRC=other\nCOPY --from=$SRC /x /x\n');
    expect(sourcesOf(p, 1, 1)?.from).toEqual({ value: 'builder', source: { kind: 'stage', index: 0 } });
    expect(p.stages[1]?.dependsOn).toEqual([0]);
  });

  test('an empty --from reads the build context', () => {
    expect(sourcesOf(plan('FROM scratch\nCOPY --from=$NOTHING /x /x\n'), 0, 0)).toEqual({});
  });

  test('a malformed image is a DockerfileError at the COPY line', () => {
    expect(planError('FROM busybox\nRUN true\nFROM scratch\nCOPY --from=Bad//Name /x /x\n')).toEqual({
      line: 4,
      message: expect.stringMatching(/^Dockerfile:4: COPY --from=Bad\/\/Name: invalid .*Bad\/\/Name/) as unknown,
      exit: 3,
    });
  });

  test('a later stage is a DockerfileError at the COPY line', () => {
    expect(planError('FROM scratch\nCOPY --from=later /x /x\nFROM scratch AS later\n')).toEqual({
      line: 2,
      message: 'Dockerfile:2: COPY --from=later refers to a stage that is not defined before it',
      exit: 3,
    });
  });
});

describe('RUN --mount', () => {
  test('mounts are read in order, with from= resolved to a stage or a parsed image', () => {
    const p = plan(
      'FROM busybox AS b\nFROM busybox\nRUN --mount=type=cache,target=/c --mount=from=b,target=/b --mount=from=alpine,target=/a true\n',
    );
    const mounts = sourcesOf(p, 1, 0)?.mounts;
    expect(mounts?.map((m) => m.text)).toEqual(['type=cache,target=/c', 'from=b,target=/b', 'from=alpine,target=/a']);
    expect(mounts?.[0]?.from).toBeUndefined();
    expect(mounts?.[1]?.from).toEqual({ value: 'b', source: { kind: 'stage', index: 0 } });
    expect(mounts?.[2]?.from?.source).toMatchObject({ kind: 'image', reference: { repository: 'library/alpine' } });
    expect(p.stages[1]?.dependsOn).toEqual([0]);
  });

  test.each([
    [
      'a bad value',
      'RUN --mount=type=cache,target=/c,sharing=sometimes true',
      'Dockerfile:4: RUN --mount=type=cache,target=/c,sharing=sometimes: unsupported sharing value "sometimes"',
    ],
    [
      'an unknown key',
      'RUN --mount=target=/x,colour=red true',
      "Dockerfile:4: RUN --mount=target=/x,colour=red: unexpected key 'colour' in 'colour=red'",
    ],
    [
      'a missing target',
      'RUN --mount=type=tmpfs true',
      'Dockerfile:4: RUN --mount=type=tmpfs: mount type tmpfs requires a target',
    ],
    [
      'a malformed from= image',
      'RUN --mount=from=Bad//Name,target=/x true',
      expect.stringMatching(/^Dockerfile:4: RUN --mount=from=Bad\/\/Name,target=\/x: invalid .*Bad\/\/Name/),
    ],
    [
      'a from= naming a later stage',
      'RUN --mount=from=later,target=/x true\nFROM scratch AS later',
      'Dockerfile:4: RUN --from=later refers to a stage that is not defined before it',
    ],
  ])('%s is a DockerfileError at the RUN line, in a later stage too', (_, run, message) => {
    expect(planError(`FROM busybox\nRUN true\nFROM busybox\n${run}\n`)).toEqual({ line: 4, message, exit: 3 });
  });

  test('what only expansion can tell is left to the RUN step', () => {
    const p = plan('FROM busybox\nRUN --mount=type=$T,target=/x,sharing=${S} --mount=type=bind,target=. true\n');
    expect(sourcesOf(p, 0, 0)?.mounts?.map((m) => m.fields.length)).toEqual([3, 2]);
  });

  test('a malformed mount in a stage --skip-unused-stages leaves out does not fail the build', () => {
    const p = plan('FROM busybox AS unused\nRUN --mount=type=tmpfs true\nFROM busybox\n', { skipUnusedStages: true });
    expect(p.stages).toHaveLength(1);
  });
});

describe("a pulled base's ONBUILD triggers", () => {
  const p = plan('FROM busybox AS b\nFROM busybox\nRUN true\nFROM busybox AS later\n');
  const stage = p.stages[1];
  if (!stage) throw new Error('no stage 1');
  const trigger = (text: string): StageInstruction => {
    const ins = parseDockerfile(`FROM scratch\n${text}\n`).stages[0]?.instructions[0];
    if (!ins) throw new Error('no trigger');
    return { ...ins, at: stage.stage.from.at };
  };

  test('resolve with the planner resolver, where the stage is', () => {
    expect(resolveSources(trigger('COPY --from=b /x /x'), sourceScope(p, stage)).from?.source).toEqual({
      kind: 'stage',
      index: 0,
    });
  });

  test('fail at the FROM line for a later stage or a malformed reference', () => {
    const line = stage.stage.from.at.line;
    for (const text of ['COPY --from=later /x /x', 'COPY --from=Bad//Name /x /x']) {
      const err = thrown(() => resolveSources(trigger(text), sourceScope(p, stage)));
      expect(err).toBeInstanceOf(DockerfileError);
      expect((err as DockerfileError).at.line).toBe(line);
    }
  });
});
