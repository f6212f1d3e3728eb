import { expect, test } from 'vitest';
import { comparePaths, imagePathOfEntryName, parentPath } from './image-path.js';

test('comparePaths orders depth-first, parents before children, bytes within a directory', () => {
  const paths = ['/a-b', '/a/z', '/a', '/B', '/a/b/c', '/é', '/a/b', '/z'];
  expect(paths.sort(comparePaths)).toEqual(['/B', '/a', '/a/b', '/a/b/c', '/a/z', '/a-b', '/z', '/é']);
});

test.each([
  ['etc/passwd', '/etc/passwd'],
  ['./etc/passwd', '/etc/passwd'],
  ['/etc//passwd', '/etc/passwd'],
  ['./', '/'],
  ['a/b/../c', '/a/c'],
  ['dir/', '/dir'],
  ['../evil', undefined],
  ['a/../../evil', undefined],
  ['/../etc/passwd', undefined],
])('entry name %j is image path %j', (name, expected) => {
  expect(imagePathOfEntryName(name)).toBe(expected);
});

test('parentPath', () => {
  expect(parentPath('/a/b')).toBe('/a');
  expect(parentPath('/a')).toBe('/');
  expect(parentPath('/')).toBe('/');
});
