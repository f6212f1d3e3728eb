import { expect, test } from 'vitest';
import { RegistryError } from '../errors.js';
import { appendQuery, checkRepository, checkTagOrDigest, uploadsPath } from './paths.js';

test('appendQuery keeps the registry state parameter byte for byte', () => {
  const u = new URL('http://r/v2/app/blobs/uploads/uuid?_state=ab%2Bc%3D%3D&x=1');
  expect(appendQuery(u, 'digest', 'sha256:00').toString()).toBe(
    'http://r/v2/app/blobs/uploads/uuid?_state=ab%2Bc%3D%3D&x=1&digest=sha256%3A00',
  );
  expect(appendQuery(new URL('http://r/up'), 'digest', 'sha256:00').toString()).toBe('http://r/up?digest=sha256%3A00');
});

test('uploadsPath encodes mount parameters', () => {
  expect(uploadsPath('a/b', { mount: 'sha256:00', from: 'c/d' })).toBe(
    '/v2/a/b/blobs/uploads/?mount=sha256%3A00&from=c%2Fd',
  );
});

test.each(['../x', 'App', 'a//b', 'a/', '', 'a?b'])('repository %j is refused', (repo) => {
  expect(() => checkRepository('r', repo)).toThrow(RegistryError);
});

test.each(['library/busybox', 'a.b/c_d/e__f/g-h'])('repository %j is accepted', (repo) => {
  expect(() => checkRepository('r', repo)).not.toThrow();
});

test.each(['../x', 'a/b', 'sha256:../../', ''])('tag or digest %j is refused', (ref) => {
  expect(() => checkTagOrDigest('r', ref)).toThrow(RegistryError);
});
