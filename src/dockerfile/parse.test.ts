import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { DockerfileError } from '../errors.js';
import type { Instruction } from './instructions.js';
import { parseDockerfile } from './parse.js';
import { expandWord } from './shell-lex.js';

/**
 * Golden cases: fixtures/dockerfiles/<case>/Dockerfile with expected.json (the parsed result,
 * locations included). Invalid Dockerfiles live in fixtures/dockerfiles-invalid/ and are checked
 * by src/plan/golden.test.ts. KILN_UPDATE_GOLDEN=1 rewrites expected.json from the current
 * parser; review the diff by hand.
 */
const root = fileURLToPath(new URL('../../fixtures/dockerfiles/', import.meta.url));
const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('golden Dockerfiles', () => {
  test.each(cases)('%s parses as expected.json', (name) => {
    const parsed = parseDockerfile(readFileSync(join(root, name, 'Dockerfile'), 'utf8'));
    const expectedPath = join(root, name, 'expected.json');
    if (process.env.KILN_UPDATE_GOLDEN === '1') writeFileSync(expectedPath, `${JSON.stringify(parsed, null, 2)}\n`);
    expect(JSON.parse(JSON.stringify(parsed))).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
  });
});

function only(text: string): Instruction {
  const df = parseDockerfile(`FROM scratch\n${text}`);
  const ins = df.stages[0]?.instructions[0];
  if (ins === undefined) throw new Error('no instruction');
  return ins;
}

describe('line rules', () => {
  test.each<[string, string, string]>([
    ['CRLF line endings', 'RUN a \\\r\n  b\r\n', 'RUN a   b'],
    ['escaped escape does not continue', 'RUN a \\\\\nRUN b', 'RUN a \\\\'],
    ['continuation over a comment that ends in a backslash', 'RUN a \\\n# c \\\n b', 'RUN a  b'],
    ['whitespace-only lines are skipped', 'RUN a \\\n   \t\n b', 'RUN a  b'],
    ['leading whitespace before the keyword', '   RUN a', 'RUN a'],
    ['trailing whitespace trimmed from text', 'RUN a   ', 'RUN a'],
    ['continuation at end of file', 'RUN a \\', 'RUN a'],
  ])('%s', (_name, source, text) => {
    expect(only(source).text).toBe(text);
  });

  test('a byte-order mark is ignored and does not shift columns', () => {
    const df = parseDockerfile('\ufeffFROM scratch\n');
    expect(df.stages[0]?.from.at).toEqual({ file: 'Dockerfile', line: 1, column: 1 });
  });

  test('column is the keyword position', () => {
    expect(only('  \tUSER app').at).toEqual({ file: 'Dockerfile', line: 2, column: 4 });
  });

  test('file name is used in locations', () => {
    expect(parseDockerfile('FROM a', 'build/Containerfile').stages[0]?.from.at.file).toBe('build/Containerfile');
  });
});

describe('command forms', () => {
  test.each<[string, unknown]>([
    ['CMD ["a", "b c"]', { form: 'exec', argv: ['a', 'b c'] }],
    ['CMD ["a",\t"\\u00e9"]', { form: 'exec', argv: ['a', 'é'] }],
    ['CMD []', { form: 'exec', argv: [] }],
    ['CMD', { form: 'shell', command: '' }],
    ['CMD ["a" "b"]', { form: 'shell', command: '["a" "b"]' }],
    ["CMD ['a']", { form: 'shell', command: "['a']" }],
    ['CMD ["a"] extra', { form: 'shell', command: '["a"] extra' }],
    ['CMD echo $HOME "x"', { form: 'shell', command: 'echo $HOME "x"' }],
    ['ENTRYPOINT [ "sh" , "-c" ]', { form: 'exec', argv: ['sh', '-c'] }],
    ['RUN --help', undefined],
  ])('%s', (source, command) => {
    if (command === undefined) {
      expect(() => only(source)).toThrow('unknown flag: --help for RUN');
      return;
    }
    const ins = only(source);
    expect('command' in ins ? ins.command : undefined).toEqual(command);
  });
});

describe('ENV, LABEL and ARG keep raw values', () => {
  test.each<[string, { key: string; value: string }[]]>([
    [
      'ENV A=1 B="x y" C=a\\ b',
      [
        { key: 'A', value: '1' },
        { key: 'B', value: '"x y"' },
        { key: 'C', value: 'a\\ b' },
      ],
    ],
    ['ENV A B  C', [{ key: 'A', value: 'B  C' }]],
    [
      'ENV A="" B=',
      [
        { key: 'A', value: '""' },
        { key: 'B', value: '' },
      ],
    ],
    ["LABEL 'quoted key'=v", [{ key: "'quoted key'", value: 'v' }]],
    [
      'LABEL a="it\'s" b=\'x"y\'',
      [
        { key: 'a', value: '"it\'s"' },
        { key: 'b', value: "'x\"y'" },
      ],
    ],
  ])('%s', (source, pairs) => {
    const ins = only(source);
    expect('pairs' in ins ? ins.pairs : undefined).toEqual(pairs);
  });

  test.each<[string, string, Record<string, string>]>([
    ['ENV A="x y" B=\'$HOME\' C=a\\ b D=$HOME', '\\', { A: 'x y', B: '$HOME', C: 'a b', D: '/root' }],
    ['ENV GREETING "hello"  big world', '\\', { GREETING: 'hello  big world' }],
    ['ENV DIR=C:\\Program` Files\\kiln Q="a`"b"', '`', { DIR: 'C:\\Program Files\\kiln', Q: 'a"b' }],
  ])("%s expands to Docker's values", (source, escape, expected) => {
    const df = parseDockerfile(`${escape === '`' ? '# escape=`\n' : ''}FROM scratch\n${source}`);
    const ins = df.stages[0]?.instructions[0];
    const pairs = ins?.kind === 'ENV' ? ins.pairs : [];
    const values = Object.fromEntries(
      pairs.map((p) => [
        expandWord(p.key, { HOME: '/root' }, df.escape),
        expandWord(p.value, { HOME: '/root' }, df.escape),
      ]),
    );
    expect(values).toEqual(expected);
  });

  test('ARG names and defaults', () => {
    const ins = only('ARG A B=2 C="x y" D=');
    expect(ins.kind === 'ARG' ? ins.args : undefined).toEqual([
      { name: 'A' },
      { name: 'B', defaultValue: '2' },
      { name: 'C', defaultValue: '"x y"' },
      { name: 'D', defaultValue: '' },
    ]);
  });
});

describe('errors', () => {
  test.each<[string, string]>([
    [
      'COPY onlyone',
      'COPY requires at least two arguments, but only one was provided. Destination could not be determined',
    ],
    ['ADD', 'ADD requires at least two arguments'],
    ['COPY a <<EOF\nx\nEOF', 'COPY cannot accept a heredoc as a destination'],
    ['WORKDIR', 'WORKDIR requires exactly one argument'],
    ['USER', 'USER requires exactly one argument'],
    ['STOPSIGNAL', 'STOPSIGNAL requires exactly one argument'],
    ['EXPOSE', 'EXPOSE requires at least one argument'],
    ['VOLUME', 'VOLUME requires at least one argument'],
    ['VOLUME ["/a", ""]', 'VOLUME specified can not be an empty string'],
    ['RUN', 'RUN requires at least one argument'],
    ['RUN ["a", 1]', 'arrays must be comprised of strings only'],
    ['ENV', 'ENV requires at least one argument'],
    ['ENV A', 'ENV must have two arguments'],
    ['ENV A=1 B', 'Syntax error - can\'t find = in "B". Must be of the form: name=value'],
    ['ENV =1', 'ENV names can not be blank'],
    ['LABEL', 'LABEL requires at least one argument'],
    ['ARG', 'ARG requires at least one argument'],
    ['ARG =x', 'ARG names can not be blank'],
    ['SHELL /bin/sh -c', 'SHELL requires the arguments to be in JSON form'],
    ['SHELL []', 'SHELL requires at least one argument'],
    ['HEALTHCHECK', 'HEALTHCHECK requires at least one argument'],
    ['HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'],
    ['HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD'],
    ['HEALTHCHECK PING x', 'Unknown type "PING" in HEALTHCHECK (try CMD)'],
    ['HEALTHCHECK --interval=1us CMD x', '--interval cannot be less than 1ms'],
    ['HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)'],
    ['HEALTHCHECK --retries=x CMD x', 'invalid value for --retries: "x"'],
    ['ONBUILD', 'ONBUILD requires at least one argument'],
    ['ONBUILD ONBUILD RUN x', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
    ['ONBUILD FROM x', "FROM isn't allowed as an ONBUILD trigger"],
    ['ONBUILD RUNN x', 'unknown instruction: RUNN'],
    ['ONBUILD COPY --chonw=1 a b', 'unknown flag: --chonw for COPY'],
    ['COPY --link=maybe a b', 'expecting boolean value for flag --link of COPY, not: maybe'],
    ['COPY --link= a b', 'missing a value on flag: --link for COPY'],
    ['COPY --from a b', 'missing a value on flag: --from for COPY'],
    ['COPY --from=a --from=b c d', 'duplicate flag specified: --from for COPY'],
    ['ENV --x=1 A=B', 'unknown flag: --x for ENV'],
    ['FROM a b', 'FROM requires either one or three arguments'],
    ['FROM a AS b c', 'FROM requires either one or three arguments'],
    ['FROM a AS 1st', 'invalid name for build stage: "1st"'],
    ['RUN <<EOF\nnever ends', 'unterminated heredoc'],
  ])('%s', (source, message) => {
    expect(() => only(source)).toThrow(message);
  });

  test('errors carry the location, the source line and a hint', () => {
    let err: unknown;
    try {
      parseDockerfile('FROM a\n\n  COPY --chonw=app a b\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.at).toEqual({ file: 'Dockerfile', line: 3, column: 3 });
    expect(e.message).toBe('Dockerfile:3: unknown flag: --chonw for COPY\n  3 |   COPY --chonw=app a b');
    expect(e.hint).toBe('did you mean --chown?');
    expect(e.exitCode).toBe(3);
  });

  test.each<[string, string | undefined]>([
    ['RUNN x', 'did you mean RUN?'],
    ['runn x', 'did you mean run?'],
    ['COPPY a b', 'did you mean COPY?'],
    ['ENTRYPONT x', 'did you mean ENTRYPOINT?'],
    ['FOOBAR x', undefined],
  ])('%s suggests %s', (source, hint) => {
    try {
      only(source);
      expect.unreachable();
    } catch (e) {
      expect((e as DockerfileError).hint).toBe(hint);
    }
  });
});
