/**
 * Errors keep their class: the handlers' word expansion turns the lexer's own errors (a malformed
 * word: the Dockerfile's fault) into a located DockerfileError, and lets anything else (a bug)
 * through as it is, so the CLI reports it as a bug (exit 1 with its stack), not as exit 3.
 */
import { describe, expect, test, vi } from 'vitest';
import { BuildError, DockerfileError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { CopyInstruction, Instruction } from '../dockerfile/instructions.js';
import { expandWord, expandWords, lex } from '../dockerfile/shell-lex.js';
import { heredocContent } from './copy-heredoc.js';
import { expand, expandToWords } from './expand.js';
import type { StageState } from './step.js';
import { thrown } from '../../test/support/thrown.js';

vi.mock('../dockerfile/shell-lex.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../dockerfile/shell-lex.js')>();
  return { ...real, expandWord: vi.fn(real.expandWord), expandWords: vi.fn(real.expandWords), lex: vi.fn(real.lex) };
});

function instruction(lines: string): Instruction {
  const ins = parseDockerfile(`FROM scratch\n${lines}\n`).stages[0]?.instructions[0];
  if (!ins) throw new Error(`no instruction in ${lines}`);
  return ins;
}

function copyWithHeredoc(lines: string): [CopyInstruction, CopyInstruction['heredocs'][number]] {
  const ins = instruction(lines);
  const doc = ins.kind === 'COPY' ? ins.heredocs[0] : undefined;
  if (ins.kind !== 'COPY' || !doc) throw new Error(`no COPY heredoc in ${lines}`);
  return [ins, doc];
}

const state: StageState = { config: { Env: ['A=1'] }, args: new Map(), escape: '\\', cmdSet: false };

interface Site {
  name: string;
  /** Calls the site with a word the lexer refuses (a Dockerfile fault). */
  fault: () => unknown;
  /** The DockerfileError the user sees for it (message and line), as before the change. */
  message: string;
  line: number;
  /** The callee the site wraps, to make it throw a bug. */
  callee: typeof expandWord | typeof expandWords | typeof lex;
  /** Parses a valid instruction and returns the call of the site on it (the callee is then made to throw). */
  call: () => () => unknown;
}

const sites: Site[] = [
  {
    name: 'expand (one word)',
    fault: () => expand(instruction('WORKDIR ${A'), state, '${A'),
    message: "Dockerfile:2: WORKDIR: syntax error: missing '}'\n  2 | WORKDIR ${A",
    line: 2,
    callee: expandWord,
    call: () => {
      const ins = instruction('WORKDIR /a');
      return () => expand(ins, state, '/a');
    },
  },
  {
    name: 'expand (required variable)',
    fault: () => expand(instruction('USER ${NOBODY:?must be set}'), state, '${NOBODY:?must be set}'),
    message: 'Dockerfile:2: USER: NOBODY: must be set\n  2 | USER ${NOBODY:?must be set}',
    line: 2,
    callee: expandWord,
    call: () => {
      const ins = instruction('USER $A');
      return () => expand(ins, state, '$A');
    },
  },
  {
    name: 'expandToWords',
    fault: () => expandToWords(instruction('VOLUME "/a'), state, '"/a'),
    message:
      'Dockerfile:2: VOLUME: unexpected end of statement while looking for matching double-quote\n  2 | VOLUME "/a',
    line: 2,
    callee: expandWords,
    call: () => {
      const ins = instruction('VOLUME /a /b');
      return () => expandToWords(ins, state, '/a /b');
    },
  },
  {
    name: 'heredocContent',
    fault: () => {
      const [ins, doc] = copyWithHeredoc('COPY <<EOF /f\n${NOBODY:?must be set}\nEOF');
      return heredocContent(ins, state, doc);
    },
    message: 'Dockerfile:2: COPY <<EOF: NOBODY: must be set\n  2 | COPY <<EOF /f',
    line: 2,
    callee: lex,
    call: () => {
      const [ins, doc] = copyWithHeredoc('COPY <<EOF /f\n$A\nEOF');
      return () => heredocContent(ins, state, doc);
    },
  },
];

describe.each(sites)('$name', (site) => {
  test('a malformed word is a DockerfileError at the instruction, as before', () => {
    const err = thrown(site.fault);
    expect(err).toBeInstanceOf(DockerfileError);
    expect((err as DockerfileError).message).toBe(site.message);
    expect((err as DockerfileError).at.line).toBe(site.line);
    expect((err as DockerfileError).exitCode).toBe(3);
  });

  test('a bug in the callee keeps its class and identity', () => {
    const bug = new TypeError('cannot read properties of undefined');
    const call = site.call();
    vi.mocked(site.callee).mockImplementationOnce(() => {
      throw bug;
    });
    const err = thrown(call);
    expect(err).toBe(bug);
    expect(err).not.toBeInstanceOf(BuildError);
  });
});
