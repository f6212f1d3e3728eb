/**
 * Where dockerfile-ast's reading of a Dockerfile differs from Docker's, parseDockerfile must
 * still give Docker's result (parse.ts lists the differences; dockerfile-ast-answers.test.ts pins
 * what dockerfile-ast itself answers in each case).
 */
import { describe, expect, test } from 'vitest';
import type { Instruction } from './instructions.js';
import { parseDockerfile } from './parse.js';

function instructions(text: string): Instruction[] {
  return parseDockerfile(text).stages.flatMap((s) => [s.from, ...s.instructions]);
}

describe('differences from dockerfile-ast', () => {
  test('comment lines inside a continuation never reach the command', () => {
    const [, run] = instructions('FROM a\nRUN echo one \\\n  # not a command\n  two\n');
    expect(run?.kind === 'RUN' && run.command).toEqual({ form: 'shell', command: 'echo one   two' });
  });

  test('an escaped escape at the end of a line ends the instruction', () => {
    expect(instructions('FROM a\nRUN echo C:\\\\\nRUN echo next\n').map((i) => i.text)).toEqual([
      'FROM a',
      'RUN echo C:\\\\',
      'RUN echo next',
    ]);
  });

  test('a heredoc with a file descriptor takes its body', () => {
    const ins = instructions('FROM a\nRUN cat 3<<EOF\nfd three\nEOF\nUSER u\n');
    expect(ins.map((i) => i.kind)).toEqual(['FROM', 'RUN', 'USER']);
    expect(ins[1]?.kind === 'RUN' && ins[1].heredocs).toEqual([
      { name: 'EOF', content: 'fd three\n', expand: true, chomp: false },
    ]);
  });

  test('`<<` inside an exec-form array opens no heredoc', () => {
    const ins = instructions('FROM a\nRUN ["sh", "-c", "cat <<EOF"]\nUSER u\n');
    expect(ins.map((i) => i.kind)).toEqual(['FROM', 'RUN', 'USER']);
  });

  test('a partly quoted delimiter closes on its unquoted name', () => {
    const ins = instructions('FROM a\nRUN cat <<E"O"F\n$HOME\nEOF\nUSER u\n');
    expect(ins.map((i) => i.kind)).toEqual(['FROM', 'RUN', 'USER']);
    expect(ins[1]?.kind === 'RUN' && ins[1].heredocs[0]).toEqual({
      name: 'EOF',
      content: '$HOME\n',
      expand: false,
      chomp: false,
    });
  });

  test('directives end at an unknown one', () => {
    const df = parseDockerfile('# unknown=x\n# escape=`\nFROM a\nRUN echo a \\\n  b\n');
    expect(df.directives).toEqual({});
    expect(df.escape).toBe('\\');
    expect(df.stages[0]?.instructions.map((i) => i.text)).toEqual(['RUN echo a   b']);
  });

  test('flag values lose their quotes and keep quoted spaces', () => {
    const [, copy] = instructions('FROM a\nCOPY --chown="app user:staff" --link --exclude=\'*.md\' a b\n');
    const flags = copy?.kind === 'COPY' && { chown: copy.chown, link: copy.link, excludes: copy.excludes };
    expect(flags).toEqual({ chown: 'app user:staff', link: true, excludes: ['*.md'] });
    expect(copy?.kind === 'COPY' && [copy.sources, copy.dest]).toEqual([['a'], 'b']);
  });

  test('a bare -- ends the flags', () => {
    const [, run] = instructions('FROM a\nRUN --network=none -- --not-a-flag\n');
    const flags = run?.kind === 'RUN' && { network: run.network, security: run.security, mounts: run.mounts };
    expect(flags).toEqual({ network: 'none', mounts: [] });
    expect(run?.kind === 'RUN' && run.command).toEqual({ form: 'shell', command: '--not-a-flag' });
  });

  test('an escaped space in a flag value stays in the value', () => {
    const [, run] = instructions('FROM a\nRUN --mount=type=bind,source=a\\ b,target=/x cat /x\n');
    expect(run?.kind === 'RUN' && [run.mounts, run.command]).toEqual([
      ['type=bind,source=a b,target=/x'],
      { form: 'shell', command: 'cat /x' },
    ]);
  });

  test('whitespace other than space and tab before the keyword is not part of it', () => {
    const ins = instructions('FROM a\n\u00a0RUN x\n\vUSER u\n');
    expect(ins.map((i) => [i.kind, i.at.line, i.at.column])).toEqual([
      ['FROM', 1, 1],
      ['RUN', 2, 2],
      ['USER', 3, 2],
    ]);
  });

  test('a carriage return inside a line does not start a new one', () => {
    const ins = instructions('FROM a\nRUN echo a\rb\nUSER u\n');
    expect(ins.map((i) => [i.kind, i.at.line])).toEqual([
      ['FROM', 1],
      ['RUN', 2],
      ['USER', 3],
    ]);
  });
});
