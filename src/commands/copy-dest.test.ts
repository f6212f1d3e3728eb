import { expect, test } from 'vitest';
import { destinationOf, fileTarget, sourceCountError } from './copy-dest.js';

test.each([
  // raw dest, WORKDIR, absolute path, spelled as a directory
  ['/app', '', '/app', false],
  ['/app/', '', '/app', true],
  ['app', '/srv', '/srv/app', false],
  ['app/', '/srv', '/srv/app', true],
  ['.', '/srv', '/srv', true],
  ['./', '/srv', '/srv', true],
  ['..', '/srv/x', '/srv', true],
  ['a/.', '/srv', '/srv/a', true],
  ['', '/srv', '/srv', true],
  ['/', '/srv', '/', true],
  ['x.txt', '', '/x.txt', false],
  ['../../etc', '/a', '/etc', false],
])('dest %j under WORKDIR %j is %s (directory: %s)', (raw, workdir, path, dir) => {
  expect(destinationOf(raw, workdir)).toEqual({ raw, path, spelledAsDir: dir });
});

test.each([
  // dest, existing directory, name, target
  ['/app', false, 'a.txt', '/app'],
  ['/app', true, 'a.txt', '/app/a.txt'],
  ['/app/', false, 'a.txt', '/app/a.txt'],
  ['.', false, 'a.txt', '/w/a.txt'],
])('a file %s to %j (existing dir: %s) lands at %s', (raw, existing, name, target) => {
  expect(fileTarget(destinationOf(raw, '/w'), existing, name)).toBe(target);
});

test.each([
  ['/app/', 3, undefined],
  ['.', 2, undefined],
  ['/app', 1, undefined],
  ['/app', 0, undefined],
  ['/app', 2, 'When using COPY with more than one source file, the destination must be a directory and end with a /'],
])('COPY of several sources to %j (%i sources)', (raw, count, message) => {
  expect(sourceCountError('COPY', count, destinationOf(raw, '/'))).toBe(message);
});
