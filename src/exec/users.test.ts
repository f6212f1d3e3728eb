import { expect, test } from 'vitest';
import { resolveUser } from './users.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n';
const group = 'root:x:0:\napp:x:1001:\nstaff:x:50:\n';

test.each([
  ['root', { uid: 0, gid: 0, home: '/root' }],
  ['app', { uid: 1000, gid: 1001, home: '/home/app' }],
  ['1000', { uid: 1000, gid: 1001, home: '/home/app' }],
  ['4242', { uid: 4242, gid: 0, home: '/' }], // a numeric uid need not exist; its gid is then 0
  ['app:staff', { uid: 1000, gid: 50, home: '/home/app' }],
  ['app:77', { uid: 1000, gid: 77, home: '/home/app' }],
  ['0:0', { uid: 0, gid: 0, home: '/root' }],
])('USER %s resolves to %j', (spec, expected) => {
  expect(resolveUser(spec, passwd, group)).toEqual(expected);
});

test.each([
  ['ghost', 'unable to find user ghost'],
  ['app:nogroup', 'unable to find group nogroup'],
])('USER %s is an error: %s', (spec, message) => {
  const r = resolveUser(spec, passwd, group);
  expect('error' in r && r.error).toMatch(message);
});

test('an image without /etc/passwd still runs numeric users', () => {
  expect(resolveUser('1000:1000', undefined, undefined)).toEqual({ uid: 1000, gid: 1000, home: '/' });
  expect(resolveUser('app', undefined, undefined)).toHaveProperty('error');
});
