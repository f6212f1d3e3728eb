import { describe, expect, test } from 'vitest';
import { cleanPath, Pattern, PatternMatcher, PatternSyntaxError } from './pattern.js';

// Rows written from the documented rules: Go filepath.Match wildcards per component, `**` for any
// number of directories, a matched directory matching everything below it, patterns cleaned.
const single: Array<[string, string, boolean]> = [
  // Plain names are anchored at the root and match whole components.
  ['Makefile', 'Makefile', true],
  ['Makefile', 'src/Makefile', false],
  ['Makefile', 'Makefile.am', false],
  ['src/gen', 'src/gen', true],
  ['src/gen', 'gen', false],
  ['src/gen', 'src/generated', false],
  // A matched directory takes everything below it.
  ['build', 'build/obj/main.o', true],
  ['src/gen', 'src/gen/a/b.ts', true],
  ['build', 'builds/main.o', false],
  // `*`: any run of characters except `/`, the empty run included.
  ['*.log', 'error.log', true],
  ['*.log', 'logs/error.log', false],
  ['*.log', '.log', true],
  ['*', 'any/depth/below', true],
  ['*/temp*', 'somedir/temporary.txt', true],
  ['*/temp*', 'somedir/temp', true],
  ['*/temp*', 'temp', false],
  ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
  ['*/*/temp*', 'somedir/temporary.txt', false],
  ['lib*.so', 'lib/x.so', false],
  ['a*b*c', 'aXbYbZc', true],
  ['a*b*c', 'aXbYbZ', false],
  // `?`: exactly one character, never `/`.
  ['temp?', 'tempa', true],
  ['temp?', 'temp', false],
  ['temp?', 'tempab', false],
  ['a?c', 'a/c', false],
  ['v?', 'vé', true],
  ['x?y', 'x😀y', true],
  // Classes: ranges, `^` negation, escapes; `!` is an ordinary member in filepath.Match, and
  // unlike `?` a class is not barred from matching `/`.
  ['file[0-9].txt', 'file7.txt', true],
  ['file[0-9].txt', 'fileA.txt', false],
  ['[abc]x', 'bx', true],
  ['[^abc]x', 'bx', false],
  ['[^abc]x', 'dx', true],
  ['a[^x]b', 'a/b', true],
  ['a[/]b', 'a/b', true],
  ['a[/]b', 'a/c/b', false],
  ['[!abc]x', '!x', true],
  ['[!abc]x', 'dx', false],
  ['[]x]', ']', true],
  ['[\\]x]', ']', true],
  ['[a\\-z]', '-', true],
  ['[a\\-z]', 'm', false],
  ['[a-]', '-', true],
  ['[α-ω]', 'λ', true],
  // `\` makes the next character literal.
  ['\\*.txt', '*.txt', true],
  ['\\*.txt', 'a.txt', false],
  ['what\\?', 'what?', true],
  ['what\\?', 'whats', false],
  ['\\[x]', '[x]', true],
  ['a\\b', 'ab', true],
  // Characters special to regular expressions are plain here.
  ['v1.0', 'v1x0', false],
  ['a+b(c)|{d}$^', 'a+b(c)|{d}$^', true],
  // `**` as a component: any number of directories, zero included.
  ['**', 'x', true],
  ['**', 'x/y/z', true],
  ['**/*.go', 'main.go', true],
  ['**/*.go', 'cmd/app/main.go', true],
  ['**/*.go', 'main.golden', false],
  ['**/node_modules', 'node_modules', true],
  ['**/node_modules', 'web/node_modules/x/index.js', true],
  ['src/**/test', 'src/test', true],
  ['src/**/test', 'src/a/b/test', true],
  ['src/**/test', 'test', false],
  ['src/**/test', 'lib/a/test', false],
  ['**/a/**/b', 'x/a/y/z/b', true],
  ['**/**/x', 'x', true],
  ['a/**/**/b', 'a/b', true],
  // A trailing `**` is what is inside the directory, not the directory itself.
  ['src/**', 'src', false],
  ['src/**', 'src/a', true],
  ['src/**', 'src/a/b', true],
  // `**` inside a component crosses directories.
  ['**.pyc', 'a.pyc', true],
  ['**.pyc', 'pkg/mod/a.pyc', true],
  ['**.pyc', 'pkg/a.py', false],
  ['x**', 'xylophone/y', true],
  // Cleaning: `./`, slashes, `..`, surrounding spaces.
  ['./docs', 'docs/a', true],
  ['/docs', 'docs/a', true],
  ['docs/', 'docs', true],
  ['/docs/', 'docs', true],
  ['**/', 'a/b', true],
  ['a/./b//c', 'a/b/c', true],
  ['a/x/../b', 'a/b', true],
  ['../a', 'a', false],
  ['/../a', 'a', true],
  ['  spaced.txt  ', 'spaced.txt', true],
  // Patterns naming the root are ignored.
  ['.', 'x', false],
  ['/', 'x', false],
];

test.each(single)('pattern %j against %j: %s', (pattern, path, expected) => {
  expect(new PatternMatcher([pattern]).matches(path)).toBe(expected);
});

// Exceptions: the last pattern that applies to a path decides.
const lists: Array<[string[], string, boolean]> = [
  [['*.md', '!README.md'], 'README.md', false],
  [['*.md', '!README.md'], 'CHANGES.md', true],
  [['*.md', '!README.md'], 'docs/guide.md', false],
  [['*.md', '!README*.md', 'README-secret.md'], 'README.md', false],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'NOTES.md', true],
  [['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md', false],
  [['!README.md', '*.md'], 'README.md', true],
  [['*', '!src', '!Dockerfile'], 'src/main.c', false],
  [['*', '!src', '!Dockerfile'], 'Dockerfile', false],
  [['*', '!src', '!Dockerfile'], 'README', true],
  [['docs', '!docs/api'], 'docs/api/index.html', false],
  [['docs', '!docs/api'], 'docs/guide.md', true],
  [['docs', '!docs/api', 'docs/api/internal'], 'docs/api/internal/a.html', true],
  [['docs', '!docs/api', 'docs/api/internal'], 'docs/api/a.html', false],
  [['**/*.log', '!keep/**'], 'keep/a.log', false],
  [['**/*.log', '!keep/**'], 'other/a.log', true],
  [['build', '!build'], 'build/a', false],
  [['!x'], 'x', false],
  [['*', '! kept'], 'kept', false],
  [['*', '!./kept/'], 'kept/a', false],
  [[], 'anything', false],
  [['', '   ', 'tmp'], 'tmp/x', true],
];

test.each(lists)('patterns %j against %j: %s', (patterns, path, expected) => {
  expect(new PatternMatcher(patterns).matches(path)).toBe(expected);
});

test.each(['!', '  ! ', '[', 'a[b', '[^', '[a-', 'x\\', '[z-a]', '[]'])('pattern %j is refused', (pattern) => {
  expect(() => new PatternMatcher([pattern])).toThrow(PatternSyntaxError);
});

test('a syntax error names the pattern', () => {
  expect(() => new PatternMatcher(['ok', 'src/[a'])).toThrow('syntax error in pattern "src/[a"');
});

test('patterns naming the root are dropped, exceptions are flagged', () => {
  const m = new PatternMatcher(['/', '.', '!/.', 'a', '!b/']);
  expect(m.patterns.map((p) => [p.cleaned, p.exclusion])).toEqual([
    ['a', false],
    ['b', true],
  ]);
  expect(m.hasExclusions).toBe(true);
  expect(new PatternMatcher(['a']).hasExclusions).toBe(false);
});

describe('Pattern', () => {
  test('match tests the path itself, covers its ancestors too', () => {
    const p = new Pattern('docs', false);
    expect(p.match('docs')).toBe(true);
    expect(p.match('docs/a')).toBe(false);
    expect(p.covers('docs/a')).toBe(true);
    expect(p.covers('doc/a')).toBe(false);
  });

  test.each([
    ['a/b.txt', false],
    ['a\\*', false],
    ['*.txt', true],
    ['a/?', true],
    ['[ab]', true],
    ['a/**', true],
  ])('%j has wildcards: %s', (pattern, expected) => {
    expect(new Pattern(pattern, false).hasWildcards).toBe(expected);
  });

  test.each([
    ['docs/keep.md', 'docs', true],
    ['docs/keep.md', 'docs/keep.md', false],
    ['docs/keep.md', 'src', false],
    ['docs', 'docs', false],
    ['a/b/c', 'a/b', true],
    ['a/b/c', 'a/x', false],
    ['*.go', 'sub', true],
    ['src/*/x', 'src/lib', true],
    ['src/*/x', 'lib', false],
    ['**/keep', 'any/dir', true],
    ['a\\*/b', 'a*', true],
  ])('%j may match inside %j: %s', (pattern, dir, expected) => {
    expect(new Pattern(pattern, true).mayMatchInside(dir)).toBe(expected);
  });
});

test.each([
  ['', '.'],
  ['.', '.'],
  ['x/', 'x'],
  ['./x/./y', 'x/y'],
  ['x/../y', 'y'],
  ['x/..', '.'],
  ['../../x', '../../x'],
  ['x/../../y', '../y'],
  ['/..', '/'],
  ['/../x', '/x'],
  ['//x//y//', '/x/y'],
  ['/', '/'],
])('cleanPath(%j) is %j', (input, expected) => {
  expect(cleanPath(input)).toBe(expected);
});
