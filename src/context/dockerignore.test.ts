import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { dockerignoreFilter, parseDockerignore, readDockerignore } from './dockerignore.js';
import { PathFilter } from './path-filter.js';

test.each([
  ['one pattern per line', 'a\nb/c\n', ['a', 'b/c']],
  ['comments and blank lines are dropped', '# comment\n\n  \nx\n', ['x']],
  ['a # after spaces is a pattern, not a comment', '  # not a comment', ['# not a comment']],
  ['surrounding whitespace is trimmed', '  node_modules  \n', ['node_modules']],
  ['a leading / is dropped', '/build\n', ['build']],
  ['a leading ./ is cleaned away', './src/*.tmp\n', ['src/*.tmp']],
  ['a trailing / is cleaned away', 'logs/\n', ['logs']],
  ['.. is resolved', 'a/../b\n', ['b']],
  ['exceptions keep their ! and are cleaned too', '!/keep/./me/\n', ['!keep/me']],
  ['space after ! is trimmed', '! keep\n', ['!keep']],
  ['CRLF line endings', 'a\r\nb\r\n', ['a', 'b']],
  ['a UTF-8 BOM is ignored', '\uFEFFa\n', ['a']],
  ['** stays', '**/*.log\n', ['**/*.log']],
  ['/ alone stays', '/\n', ['/']],
])('%s', (_name, text, expected) => {
  expect(parseDockerignore(text)).toEqual(expected);
});

// How a context walk treats entries (tonistiigi/fsutil walker semantics).
test.each([
  // patterns, path, is a directory, verdict
  [['*.log'], 'a.log', false, 'exclude'],
  [['*.log'], 'sub/a.log', false, 'include'],
  [['**/*.log'], 'sub/a.log', false, 'exclude'],
  [['docs'], 'docs', true, 'exclude'],
  [['docs'], 'docs/x.md', false, 'exclude'],
  [['docs', '!docs/keep.md'], 'docs', true, 'descend'],
  [['docs', '!docs/keep.md'], 'docs/keep.md', false, 'include'],
  [['docs', '!docs/keep.md'], 'other', true, 'include'],
  [['docs', '!src/keep.md'], 'docs', true, 'exclude'],
  [['*', '!*.go'], 'sub', true, 'descend'],
  [['*', '!src'], 'src', true, 'include'],
  [['*', '!src'], 'src/a.c', false, 'include'],
  [['*', '!src'], 'lib', true, 'exclude'],
])('patterns %j: %j (dir: %s) is %s', (patterns, path, isDir, verdict) => {
  expect(new PathFilter(patterns).verdict(path, isDir)).toBe(verdict);
});

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

test('<Dockerfile>.dockerignore next to the Dockerfile wins over the context root .dockerignore', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kiln-dockerignore-'));
  dirs.push(base);
  await mkdir(join(base, 'ctx'));
  await mkdir(join(base, 'build'));
  await writeFile(join(base, 'ctx', '.dockerignore'), 'from-context\n');
  expect(await readDockerignore(join(base, 'ctx'), join(base, 'build', 'app.Dockerfile'))).toEqual({
    file: join(base, 'ctx', '.dockerignore'),
    patterns: ['from-context'],
  });
  await writeFile(join(base, 'build', 'app.Dockerfile.dockerignore'), 'from-dockerfile\n');
  expect(await readDockerignore(join(base, 'ctx'), join(base, 'build', 'app.Dockerfile'))).toEqual({
    file: join(base, 'build', 'app.Dockerfile.dockerignore'),
    patterns: ['from-dockerfile'],
  });
  expect(await readDockerignore(join(base, 'build'), join(base, 'ctx', 'Dockerfile'))).toEqual({ patterns: [] });
});

test('a malformed pattern is a usage error naming the file', () => {
  expect(dockerignoreFilter({ file: '/ctx/.dockerignore', patterns: ['ok'] }).excludes('ok')).toBe(true);
  expect(() => dockerignoreFilter({ file: '/ctx/.dockerignore', patterns: ['[a'] })).toThrow(UsageError);
  expect(() => dockerignoreFilter({ file: '/ctx/.dockerignore', patterns: ['[a'] })).toThrow(
    /^\/ctx\/\.dockerignore: syntax error in pattern "\[a": unterminated \[/,
  );
});
