/**
 * What dockerfile-ast itself answers in each case where Kiln reads the Dockerfile its own way
 * (parse.ts lists them; dockerfile-ast.test.ts checks that Kiln gives Docker's answer there). These
 * tests pin the library's answers: when an upgrade of dockerfile-ast fixes one, its test fails, and
 * the Kiln code named in parse.ts for that case can give way to dockerfile-ast's answer. Tests may
 * import dockerfile-ast directly; the code has one home for it (ARCHITECTURE.md §3).
 */
import { DockerfileParser, ModifiableInstruction, Run, type Instruction } from 'dockerfile-ast';
import { describe, expect, test } from 'vitest';

/** dockerfile-ast's instructions of `text`: keyword and first and last line (0-based). */
function outline(text: string): [string, number, number][] {
  return DockerfileParser.parse(text)
    .getInstructions()
    .map((i) => [i.getInstruction(), i.getRange().start.line, i.getRange().end.line]);
}

/** dockerfile-ast's instruction on line `line` of `text`. */
function at(text: string, line: number): Instruction {
  const found = DockerfileParser.parse(text)
    .getInstructions()
    .find((i) => i.getRange().start.line === line);
  if (found === undefined) throw new Error(`no instruction on line ${line}`);
  return found;
}

/** dockerfile-ast's flags of the instruction on line `line`, as name and value. */
function flags(text: string, line: number): [string, string | null][] {
  const ins = at(text, line);
  if (!(ins instanceof ModifiableInstruction)) throw new Error(`no flags on line ${line}`);
  return ins.getFlags().map((f) => [f.getName(), f.getValue()]);
}

describe('dockerfile-ast differs from Docker', () => {
  test('directives: it keeps reading after an unknown directive and takes an escape Docker ignores', () => {
    const df = DockerfileParser.parse('# unknown=x\n# escape=`\nFROM a\n');
    expect(df.getDirectives().map((d) => [d.getName(), d.getValue()])).toEqual([
      ['unknown', 'x'],
      ['escape', '`'],
    ]);
    expect(df.getEscapeCharacter()).toBe('`');
  });

  test('text: comment lines inside a continuation stay in the argument text', () => {
    expect(at('FROM a\nRUN echo one \\\n  # not a command\n  two\n', 1).getRawArgumentsContent()).toContain(
      '# not a command',
    );
  });

  test('boundaries: an escaped escape at a line end continues the instruction', () => {
    expect(outline('FROM a\nRUN echo C:\\\\\nRUN echo next\n')).toEqual([
      ['FROM', 0, 0],
      ['RUN', 1, 2],
    ]);
  });

  test('boundaries: a heredoc with a file descriptor (3<<EOF) opens no heredoc', () => {
    expect(outline('FROM a\nRUN cat 3<<EOF\nfd three\nEOF\nUSER u\n').map(([k]) => k)).toEqual([
      'FROM',
      'RUN',
      'fd',
      'EOF',
      'USER',
    ]);
  });

  test('boundaries: `<<` inside an exec-form array opens a heredoc, which takes the next instruction', () => {
    expect(outline('FROM a\nRUN ["sh", "-c", "cat <<EOF"]\nUSER u\n').map(([k]) => k)).toEqual(['FROM', 'RUN']);
  });

  test('boundaries: a partly quoted delimiter (<<E"O"F) does not close on EOF', () => {
    expect(outline('FROM a\nRUN cat <<E"O"F\n$HOME\nEOF\nUSER u\n').map(([k]) => k)).toEqual(['FROM', 'RUN']);
  });

  test('heredocs: a quoted and an unquoted delimiter give the same heredoc, so whether to expand is lost', () => {
    const names = ["<<'EOF'", '<<"EOF"', '<<EOF', '<<-EOF'].map((opener) => {
      const run = at(`FROM a\nRUN ${opener}\necho\nEOF\n`, 1);
      return run instanceof Run ? run.getHeredocs().map((h) => h.getName()) : [];
    });
    expect(names).toEqual([['EOF'], ['EOF'], ['EOF'], ['EOF']]);
  });

  test('lines: a carriage return inside a line starts a new one', () => {
    expect(outline('FROM a\nRUN echo a\rb\nUSER u\n').map(([k]) => k)).toEqual(['FROM', 'RUN', 'b', 'USER']);
  });

  test('keyword: whitespace other than space and tab before it becomes part of it', () => {
    expect(outline('FROM a\n\u00a0RUN x\n\vUSER u\n').map(([k]) => k)).toEqual(['FROM', '\u00a0RUN', '\vUSER']);
  });

  test('flags: quotes stay in values and a quoted space ends the value', () => {
    expect(flags('FROM a\nCOPY --chown="app user:staff" --link a b\n', 1)).toEqual([['chown', '"app']]);
  });

  test('flags: an escaped space ends the value', () => {
    expect(flags('FROM a\nRUN --mount=type=bind,source=a\\ b,target=/x cat /x\n', 1)).toEqual([
      ['mount', 'type=bind,source=a'],
    ]);
  });

  test('flags: a bare -- does not end them', () => {
    expect(flags('FROM a\nRUN --network=none -- --not-a-flag\n', 1)).toEqual([
      ['network', 'none'],
      ['', null],
      ['not-a-flag', null],
    ]);
  });
});
