import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { expandWord, expandWords, lex, ShellExpansionError } from './shell-lex.js';
import { reversePattern, shellPatternToRegExp } from './shell-pattern.js';

/** The environment declared at the top of fixtures/shell/expand.txt. */
const env = {
  PWD: '/home',
  SHELL: 'bash',
  KOREAN: '한국어',
  NULL: '',
  A: 'alpha',
  EMPTY: '',
  PATHS: '/usr/local/bin',
  FILE: 'archive.tar.gz',
  URL: 'http://example.com/a/b',
  SPACED: 'a  b',
  STARS: '/foo*/*/*.txt',
  UNSET: undefined,
};

function tableCases(): [number, string, string][] {
  const text = readFileSync(new URL('../../fixtures/shell/expand.txt', import.meta.url), 'utf8');
  const cases: [number, string, string][] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const bar = line.indexOf('|');
    if (bar < 0) throw new Error(`expand.txt:${i + 1}: no '|' separator`);
    cases.push([i + 1, line.slice(0, bar).trim(), line.slice(bar + 1).trim()]);
  });
  return cases;
}

describe('fixtures/shell/expand.txt', () => {
  test.each(tableCases())('line %i: %s → %s', (_line, input, expected) => {
    if (expected === 'error') {
      expect(() => expandWord(input, env)).toThrow(ShellExpansionError);
    } else {
      expect(expandWord(input, env)).toBe(expected);
    }
  });
});

describe('expandWord', () => {
  test.each([
    ['${A:-x}', 'alpha'],
    ['${EMPTY:-x}', 'x'],
    ['${EMPTY-x}', ''],
    ['${A%pha}', 'al'],
    ['\\$A', '$A'],
    // whitespace is kept by expandWord, only quotes and escapes go
    ['  a  "b  c"  ', '  a  b  c  '],
    ['$SPACED', 'a  b'],
    ['a\\ b', 'a b'],
  ])('%s expands to %j', (word, expected) => {
    expect(expandWord(word, env)).toBe(expected);
  });

  test.each([
    // with escape=` the backslash is an ordinary character (Windows paths)
    ['C:\\Windows\\$A', 'C:\\Windows\\alpha'],
    ['`$A', '$A'],
    ['"a`"b"', 'a"b'],
    ['"C:\\dir"', 'C:\\dir'],
    ['a``b', 'a`b'],
  ])('with the backtick escape %s expands to %j', (word, expected) => {
    expect(expandWord(word, env, '`')).toBe(expected);
  });

  test.each([
    ['${XXX:?must be set}', 'XXX: must be set'],
    ['${XXX?}', 'XXX: is not allowed to be unset'],
    ['${NULL:?}', 'NULL: is not allowed to be empty'],
    ['${A', "syntax error: missing '}'"],
    ['${A:', "syntax error: missing '}'"],
    ['${A:-x', "syntax error: missing '}'"],
    ['${A/x', "syntax error: missing '/' in ${}"],
    ['${}', 'syntax error: bad substitution'],
    ['${A:1}', 'unsupported modifier (:1) in substitution'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['${A#\\x}', "invalid pattern (\\x) in substitution: invalid escape '\\x'"],
  ])('%s fails with %j', (word, message) => {
    expect(() => expandWord(word, env)).toThrow(message);
  });
});

describe('expandWords', () => {
  test.each<[string, string[]]>([
    ['a b  c', ['a', 'b', 'c']],
    ['  a  ', ['a']],
    ['"a b" c', ['a b', 'c']],
    ["'a  b'c d", ['a  bc', 'd']],
    ['a\\ b c', ['a b', 'c']],
    // values are split after expansion unless quoted
    ['$SPACED', ['a', 'b']],
    ['"$SPACED"', ['a  b']],
    ['x$SPACED', ['xa', 'b']],
    // empty words vanish, quoted or not
    ['"" a', ['a']],
    ['$EMPTY', []],
    ['', []],
    ['${UNSET:-x y}', ['x', 'y']],
    ['8080/tcp 53/udp', ['8080/tcp', '53/udp']],
  ])('%j splits into %j', (text, words) => {
    expect(expandWords(text, env)).toEqual(words);
  });
});

describe('lex options used for heredoc detection', () => {
  test.each<[string, string[]]>([
    ['RUN <<"EOF" cat', ['RUN', '<<"EOF"', 'cat']],
    ["COPY <<'a b' /x", ['COPY', "<<'a b'", '/x']],
    ['RUN echo $HOME <<\\EOF', ['RUN', 'echo', '$HOME', '<<\\EOF']],
    ['RUN ${X:-1} ${Y}', ['RUN', '${X:-1}', '${Y}']],
  ])('raw quotes, raw escapes, unset kept: %j', (text, words) => {
    expect(lex(text, {}, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words).toEqual(words);
  });
});

describe('shell patterns', () => {
  test.each([
    ['*', '^[^\\n]*'],
    ['?', '^[^\\n]'],
    ['\\*', '^\\*'],
    ['(()[]{\\}^$.\\*\\?|\\\\', '^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\'],
  ])('%s compiles to %s', (pattern, source) => {
    expect(shellPatternToRegExp(pattern, true, true).source).toBe(source);
  });

  test.each(['\\', '\\x', '\\\\\\'])('%s is an invalid pattern', (pattern) => {
    expect(() => shellPatternToRegExp(pattern, true, true)).toThrow();
  });

  test.each([
    ['a\\*c', 'c\\*a'],
    ['\\\\\\ab', 'b\\a\\\\'],
    ['ab\\', '\\ba'],
    ['\\\\b', 'b\\\\'],
  ])('reversePattern(%s) is %s', (pattern, reversed) => {
    expect(reversePattern(pattern)).toBe(reversed);
  });
});
