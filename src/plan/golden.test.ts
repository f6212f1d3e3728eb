/**
 * Golden Dockerfiles through parse + plan:
 * - fixtures/dockerfiles/<case>/: Dockerfile, optional options.json (buildArgs, target,
 *   skipUnusedStages, platform), plan.json — the stages to build, each one's base, platform,
 *   dependencies and instructions;
 * - fixtures/dockerfiles-invalid/<case>/: Dockerfile, optional options.json, expected.json —
 *   the exit code, Dockerfile line and message the user sees.
 * KILN_UPDATE_GOLDEN=1 writes missing plan.json files from the current planner; review them.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { BuildError, DockerfileError } from '../errors.js';
import { FLAG_SPECS } from '../dockerfile/flags.js';
import { splitInstruction } from '../dockerfile/instruction-line.js';
import type { StageInstruction } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { formatPlatform, parsePlatform, type Platform } from '../oci/platform.js';
import { planBuild, type BuildPlan } from './planner.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const casesIn = (dir: string): string[] =>
  readdirSync(join(fixtures, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

interface CaseOptions {
  buildArgs?: Record<string, string>;
  target?: string;
  skipUnusedStages?: boolean;
  platform?: string;
}

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

function planCase(dir: string): BuildPlan {
  const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  const optsPath = join(dir, 'options.json');
  const o: CaseOptions = existsSync(optsPath) ? (JSON.parse(readFileSync(optsPath, 'utf8')) as CaseOptions) : {};
  const platform = o.platform ? parsePlatform(o.platform) : AMD64;
  if (!platform) throw new Error(`bad platform in ${optsPath}`);
  return planBuild(parseDockerfile(text), {
    buildArgs: new Map(Object.entries(o.buildArgs ?? {})),
    ...(o.target !== undefined ? { target: o.target } : {}),
    skipUnusedStages: o.skipUnusedStages ?? false,
    targetPlatform: platform,
    buildPlatform: AMD64,
  });
}

/** The flags `i` was written with, in order and once each, leaving out booleans given as false. */
function flagsWritten(i: StageInstruction): string[] {
  const names = splitInstruction(i.text).flagWords.flatMap((word) => {
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const off = eq >= 0 && FLAG_SPECS[i.kind]?.[name] === 'bool' && word.slice(eq + 1).toLowerCase() === 'false';
    return off ? [] : [name];
  });
  return [...new Set(names)];
}

/** The plan as a reviewable document: automatic platform ARGs left out of the globals. */
function describePlan(plan: BuildPlan): unknown {
  const globals = Object.fromEntries([...plan.globals].filter(([k]) => plan.declaredGlobals.has(k)));
  return {
    globals,
    stages: plan.stages.map((s) => ({
      index: s.stage.index,
      ...(s.stage.from.stageName ? { name: s.stage.from.stageName } : {}),
      // The image as written; its parsed reference is oci/reference.ts's to test.
      base: s.base.kind === 'image' ? { kind: s.base.kind, ref: s.base.ref } : s.base,
      platform: formatPlatform(s.platform),
      dependsOn: s.dependsOn,
      instructions: s.stage.instructions.map(
        (i) =>
          `${i.at.line}: ${i.kind}${flagsWritten(i)
            .map((f) => ` --${f}`)
            .join('')}`,
      ),
    })),
  };
}

describe('valid Dockerfiles plan as plan.json says', () => {
  test.each(casesIn('dockerfiles'))('%s', (name) => {
    const dir = join(fixtures, 'dockerfiles', name);
    const got = JSON.parse(JSON.stringify(describePlan(planCase(dir)))) as unknown;
    const expectedPath = join(dir, 'plan.json');
    if (process.env.KILN_UPDATE_GOLDEN === '1' && !existsSync(expectedPath))
      writeFileSync(expectedPath, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });

  test('there are at least 60 single-feature cases', () => {
    expect(casesIn('dockerfiles').length).toBeGreaterThanOrEqual(60);
  });
});

describe('invalid Dockerfiles fail as expected.json says', () => {
  test.each(casesIn('dockerfiles-invalid'))('%s', (name) => {
    const dir = join(fixtures, 'dockerfiles-invalid', name);
    let error: unknown;
    try {
      planCase(dir);
    } catch (err) {
      error = err;
    }
    // Anything but a BuildError is rethrown as it is, so the test shows what planCase threw.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (!(error instanceof BuildError)) throw error ?? new Error(`${name} did not fail`);
    const got = {
      exitCode: error.exitCode,
      ...(error instanceof DockerfileError ? { line: error.at.line } : {}),
      message: error.message + (error.hint === undefined ? '' : `\nhint: ${error.hint}`),
    };
    const expectedPath = join(dir, 'expected.json');
    if (process.env.KILN_UPDATE_GOLDEN === '1' && !existsSync(expectedPath))
      writeFileSync(expectedPath, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });

  test('there are at least 20 cases', () => {
    expect(casesIn('dockerfiles-invalid').length).toBeGreaterThanOrEqual(20);
  });
});
