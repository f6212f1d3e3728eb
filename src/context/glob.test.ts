import { expect, test } from 'vitest';
import { componentGlob, hasWildcard, PathGlob } from './glob.js';
import { classifySource, urlFileName } from './remote-source.js';

test.each([
  ['*.txt', 'a.txt', true],
  ['*.txt', '.txt', true],
  ['hom?', 'home', true],
  ['hom?', 'hom', false],
  ['[a-c]x', 'bx', true],
  ['[^a-c]x', 'bx', false],
  ['[!a]x', '!x', true], // Go's filepath.Match negates with ^ only
  ['a\\*', 'a*', true],
  ['a\\*', 'ab', false],
  ['x-y.(1)', 'x-y.(1)', true],
  ['[-a]', '-', true],
  ['☺?', '☺☺', true],
])('component glob %j matches %j: %s', (glob, name, expected) => {
  expect(componentGlob(glob).test(name)).toBe(expected);
});

test.each([
  ['a/*.txt', true],
  ['a/b.txt', false],
  ['a\\*.txt', false],
  ['[ab]', true],
  ['what?', true],
])('%j has a wildcard: %s', (s, expected) => {
  expect(hasWildcard(s)).toBe(expected);
});

test.each([
  // --parents pattern, path, matches, may match below
  ['x/a.txt', 'x/a.txt', true, false],
  ['x/a.txt', 'x', false, true],
  ['x/a.txt', 'y', false, false],
  ['*/a.txt', 'y', false, true],
  ['*/a.txt', 'y/a.txt', true, false],
  ['src/**/*.txt', 'src/a.txt', true, true], // a directory named a.txt could hold more
  ['src/**/*.txt', 'src/x/y/c.txt', true, true],
  ['src/**/*.txt', 'src/x', false, true],
  ['src/**/*.txt', 'lib', false, false],
  ['**/*.go', 'main.go', true, true],
  ['**/*.go', 'a/b', false, true],
  ['src/**', 'src', true, true],
  ['src/**', 'src/deep/file', true, true],
])('--parents pattern %j on %j: matches %s, may match below %s', (pattern, path, matches, below) => {
  const glob = new PathGlob(pattern);
  expect(glob.matches(path)).toBe(matches);
  expect(glob.mayMatchBelow(path)).toBe(below);
});

test.each([
  ['https://example.com/file.tar.gz', 'http'],
  ['http://127.0.0.1:8080/x', 'http'],
  ['https://github.com/moby/buildkit.git', 'git'],
  ['https://github.com/moby/buildkit.git#v0.10.1:docs', 'git'],
  ['git@github.com:moby/buildkit.git', 'git'],
  ['git://example.com/repo', 'git'],
  ['ssh://git@example.com/repo', 'git'],
  ['github.com/moby/buildkit', 'local'],
  ['./https://x', 'local'],
  ['src/app', 'local'],
  ['C:foo', 'local'],
])('source %j is %s', (src, kind) => {
  expect(classifySource(src).kind).toBe(kind);
});

test('a git source splits its fragment into ref and subdirectory', () => {
  expect(classifySource('https://h/r.git#main:sub/dir')).toEqual({
    kind: 'git',
    remote: 'https://h/r.git',
    ref: 'main',
    subdir: 'sub/dir',
  });
  expect(classifySource('git@h:r.git#v1')).toEqual({ kind: 'git', remote: 'git@h:r.git', ref: 'v1' });
  expect(classifySource('https://h/r.git#:docs')).toEqual({ kind: 'git', remote: 'https://h/r.git', subdir: 'docs' });
});

test.each([
  ['https://example.com/foobar', 'foobar'],
  ['https://example.com/dir/file.tar.gz?x=1', 'file.tar.gz'],
  ['https://example.com/a%20b.txt', 'a b.txt'],
  ['https://example.com/a%2Fb', 'b'],
  ['https://example.com/', '__unnamed__'],
  ['https://example.com', '__unnamed__'],
  ['https://example.com/dir/', 'dir'],
])('the file from %j is named %j', (url, name) => {
  expect(urlFileName(new URL(url))).toBe(name);
});
