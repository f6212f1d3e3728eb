/**
 * Errors keep their class: the planner turns the lexer's own errors (a malformed word in a global
 * ARG default, a FROM line or a `--from` value: the Dockerfile's fault) into a located
 * DockerfileError, and lets anything else (a bug) through as it is, so the CLI reports it as a bug
 * (exit 1 with its stack), not as exit 3.
 */
import { describe, expect, test, vi } from 'vitest';
import { BuildError, DockerfileError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { expandWord } from '../dockerfile/shell-lex.js';
import type { Platform } from '../oci/platform.js';
import { planBuild } from './planner.js';
import { thrown } from '../../test/support/thrown.js';

vi.mock('../dockerfile/shell-lex.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../dockerfile/shell-lex.js')>();
  return { ...real, expandWord: vi.fn(real.expandWord) };
});

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

function plan(text: string): () => unknown {
  const df = parseDockerfile(text);
  return () =>
    planBuild(df, { buildArgs: new Map(), skipUnusedStages: false, targetPlatform: AMD64, buildPlatform: AMD64 });
}

interface Site {
  name: string;
  /** A Dockerfile with a word the lexer refuses at this site. */
  fault: string;
  /** The DockerfileError the user sees for it (message and line), as before the change. */
  message: string;
  line: number;
  /** A valid Dockerfile whose `nth` call of expandWord (1-based) is made at this site. */
  valid: string;
  nth: number;
}

const sites: Site[] = [
  {
    name: 'global ARG default (build-args.ts)',
    fault: 'ARG A=${B:?required}\nFROM scratch\n',
    message: 'Dockerfile:1: ARG A: B: required\n  1 | ARG A=${B:?required}',
    line: 1,
    valid: 'ARG A=x\nFROM scratch\n',
    nth: 1,
  },
  {
    name: 'FROM image (planner.ts)',
    fault: 'FROM ${IMG:?required}\n',
    message: 'Dockerfile:1: FROM: IMG: required\n  1 | FROM ${IMG:?required}',
    line: 1,
    valid: 'FROM alpine\n',
    nth: 1,
  },
  {
    name: 'FROM --platform (planner.ts)',
    fault: 'FROM --platform=${P:?required} alpine\n',
    message: 'Dockerfile:1: FROM: P: required\n  1 | FROM --platform=${P:?required} alpine',
    line: 1,
    valid: 'FROM --platform=linux/arm64 alpine\n',
    nth: 2,
  },
  {
    // The planner's expansion names FROM and its line even for a `--from` value (unchanged here).
    name: 'COPY --from (planner.ts)',
    fault: 'FROM alpine\nCOPY --from=${S:?required} /a /b\n',
    message: 'Dockerfile:1: FROM: S: required\n  1 | FROM alpine',
    line: 1,
    valid: 'FROM alpine AS a\nFROM scratch\nCOPY --from=a /a /b\n',
    nth: 3,
  },
];

describe.each(sites)('$name', (site) => {
  test('a malformed word is a DockerfileError at its line, as before', () => {
    const err = thrown(plan(site.fault));
    expect(err).toBeInstanceOf(DockerfileError);
    expect((err as DockerfileError).message).toBe(site.message);
    expect((err as DockerfileError).at.line).toBe(site.line);
    expect((err as DockerfileError).exitCode).toBe(3);
  });

  test('the valid Dockerfile plans', () => {
    expect(plan(site.valid)()).toBeDefined();
  });

  test('a bug in expandWord keeps its class and identity', () => {
    const run = plan(site.valid);
    const bug = new TypeError('cannot read properties of undefined');
    const real = vi.mocked(expandWord).getMockImplementation();
    if (!real) throw new Error('expandWord is not wrapped');
    for (let i = 1; i < site.nth; i++) vi.mocked(expandWord).mockImplementationOnce(real);
    vi.mocked(expandWord).mockImplementationOnce(() => {
      throw bug;
    });
    const err = thrown(run);
    expect(err).toBe(bug);
    expect(err).not.toBeInstanceOf(BuildError);
  });
});
