import { expect, test } from 'vitest';
import { NO_FILTER, PathFilter } from './path-filter.js';

test.each([
  // patterns, path, is a directory, verdict
  [['tmp'], 'tmp', true, 'exclude'],
  [['tmp'], 'tmp/a', false, 'exclude'],
  [['tmp'], 'src', true, 'include'],
  [['tmp', '!tmp/keep'], 'tmp', true, 'descend'],
  [['tmp', '!tmp/keep'], 'tmp/keep', false, 'include'],
  [['tmp', '!tmp/keep'], 'tmp/drop', false, 'exclude'],
  [['tmp', '!lib/keep'], 'tmp', true, 'exclude'],
  [['a', '!a/b/c'], 'a/b', true, 'descend'],
  [['a', '!a/b/c'], 'a/x', true, 'exclude'],
  [['*', '!**/*.c'], 'src', true, 'descend'],
  [['*', '!src/*/keep'], 'src', true, 'descend'],
  [['*', '!src/*/keep'], 'lib', true, 'exclude'],
  [['*', '!lib'], 'lib', true, 'include'],
  [['!tmp', 'tmp'], 'tmp', true, 'exclude'],
  [['*.o'], 'main.o', true, 'exclude'],
])('patterns %j: %j (dir: %s) is %s', (patterns, path, isDir, verdict) => {
  expect(new PathFilter(patterns).verdict(path, isDir)).toBe(verdict);
});

test('an empty filter leaves nothing out', () => {
  expect(NO_FILTER.empty).toBe(true);
  expect(NO_FILTER.verdict('x', true)).toBe('include');
  expect(new PathFilter(['', '.', '/']).empty).toBe(true);
  expect(new PathFilter(['x']).excludes('x/y')).toBe(true);
});

const tree = [
  'Dockerfile',
  'README.md',
  'docs/guide.md',
  'docs/api/index.html',
  'docs/api/internal/notes.md',
  'src/main.go',
  'src/lib/util.go',
  'src/lib/util_test.go',
  'src/lib/vendor/dep/dep.go',
  'build/out/app',
  'build/out/app.log',
  'tmp/cache/a.tmp',
  'tmp/keep/.gitkeep',
];

/** Walks `tree` as a copy would, pruning directories the filter says to exclude. */
function walk(filter: PathFilter, dir: string): string[] {
  const prefix = dir === '' ? '' : `${dir}/`;
  const children = new Map<string, boolean>();
  for (const file of tree) {
    if (!file.startsWith(prefix)) continue;
    const [name, ...rest] = file.slice(prefix.length).split('/');
    if (name !== undefined) children.set(name, rest.length > 0 || children.get(name) === true);
  }
  const out: string[] = [];
  for (const [name, isDir] of children) {
    const rel = prefix + name;
    const verdict = filter.verdict(rel, isDir);
    if (verdict === 'exclude') continue;
    if (isDir) out.push(...walk(filter, rel));
    else out.push(rel);
  }
  return out;
}

test.each([
  [['docs', '!docs/api', 'docs/api/internal']],
  [['*', '!src/lib/*.go', 'src/lib/*_test.go']],
  [['**/*.go', '!**/vendor/**']],
  [['*', '!**/*.md']],
  [['build', 'tmp', '!tmp/keep', '!build/out/*.log']],
  [['**', '!src/*/vendor']],
  [['src/**', '!src/l?b/util.go']],
  [['**.go', '!**/dep.go', '*.md', '!README*']],
])('walking with %j keeps exactly the files the patterns do not match', (patterns) => {
  const filter = new PathFilter(patterns);
  const expected = tree.filter((f) => !filter.excludes(f));
  expect(walk(filter, '').sort()).toEqual(expected.sort());
});

test.each([
  // patterns, directory ('' for the root), whether something at or below it may be left out
  [[], '', false],
  [['!keep'], '', false],
  [['secret.env'], '', true],
  [['secret.env'], 'sub', false],
  [['sub/private'], 'sub', true],
  [['sub/private'], 'sub/private/deep', true],
  [['sub/private'], 'other', false],
  [['*.txt'], 'sub', true],
  [['**/x'], 'a/b', true],
  [['a/*/c'], 'b', false],
])('patterns %j may exclude within %j: %s', (patterns, dir, may) => {
  expect(new PathFilter(patterns).mayExcludeWithin(dir)).toBe(may);
});
