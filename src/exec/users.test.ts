import { expect, test } from 'vitest';
import { resolveFileOwner, resolveUser, userSpecError } from './users.js';

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
  expect(r).toHaveProperty('kind', 'unknown');
});

test('an image without /etc/passwd still runs numeric users', () => {
  expect(resolveUser('1000:1000', undefined, undefined)).toEqual({ uid: 1000, gid: 1000, home: '/' });
  expect(resolveUser('app', undefined, undefined)).toHaveProperty('error');
});

const hostile =
  'root:x:0:0:root:/root:/bin/sh\nevil:x:4294967296:0::/:/bin/sh\nhalf:x:2147483648:0::/:/bin/sh\nbadgid:x:1000:4294967296::/:/bin/sh\nodd:x::0::/:/bin/sh\nhex:x:0x10:0::/:/bin/sh\n';
const hostileGroups = 'root:x:0:\nwrap:x:4294967296:\nok:x:2147483647:\n';

// The kernel takes ids modulo 2^32: 4294967296 is root. Every way of reaching one is refused.
test.each([
  ['4294967296', 'uid 4294967296 is out of range (0 to 2147483647)'],
  ['2147483648', 'uid 2147483648 is out of range'],
  ['0:4294967296', 'gid 4294967296 is out of range'],
  ['99999999999999999999999', 'uid 99999999999999999999999 is out of range'],
  ['evil', 'user evil has uid 4294967296 in /etc/passwd, out of range (0 to 2147483647)'],
  ['half', 'user half has uid 2147483648 in /etc/passwd'],
  ['badgid', 'user badgid has gid 4294967296 in /etc/passwd'],
  ['1000', 'user badgid has gid 4294967296 in /etc/passwd'], // numeric uid, gid taken from its entry
  ['root:wrap', 'group wrap has gid 4294967296 in /etc/group'],
])('USER %s is out of range: %s', (spec, message) => {
  const r = resolveUser(spec, hostile, hostileGroups);
  expect(r).toEqual({ error: expect.stringContaining(message) as unknown, kind: 'range' });
});

test.each([
  ['2147483647', { uid: 2147483647, gid: 0, home: '/' }],
  ['0:2147483647', { uid: 0, gid: 2147483647, home: '/root' }],
  ['root:ok', { uid: 0, gid: 2147483647, home: '/root' }],
  ['badgid:0', { uid: 1000, gid: 0, home: '/' }], // the entry's bad gid is not used
])('USER %s at the limit resolves to %j', (spec, expected) => {
  expect(resolveUser(spec, hostile, hostileGroups)).toEqual(expected);
});

test.each(['odd', 'hex'])('a passwd line whose uid is not decimal (%s) is skipped, never read as 0', (name) => {
  expect(resolveUser(name, hostile, hostileGroups)).toEqual({
    error: `unable to find user ${name}: no matching entries in passwd file`,
    kind: 'unknown',
  });
});

test.each([
  ['4294967296', 'uid 4294967296 is out of range (0 to 2147483647)'],
  ['1:2147483648', 'gid 2147483648 is out of range (0 to 2147483647)'],
  ['name:4294967296', 'gid 4294967296 is out of range (0 to 2147483647)'],
  ['2147483647:2147483647', undefined],
  ['name', undefined],
])('userSpecError(%s) is %j', (spec, expected) => {
  expect(userSpecError(spec)).toBe(expected);
});

// WORKDIR's directories for a USER: BuildKit's `Mkdir … WithUser` rule, which differs from RUN's
// for a number (uid:uid, listed or not) and for a name the image does not list (0, no error).
test.each([
  ['root', { uid: 0, gid: 0, unknown: [] }],
  ['app', { uid: 1000, gid: 1001, unknown: [] }],
  ['1000', { uid: 1000, gid: 1000, unknown: [] }],
  ['4242', { uid: 4242, gid: 4242, unknown: [] }],
  ['app:staff', { uid: 1000, gid: 50, unknown: [] }],
  ['app:77', { uid: 1000, gid: 77, unknown: [] }],
  ['4242:staff', { uid: 4242, gid: 50, unknown: [] }],
  ['app:', { uid: 1000, gid: 1001, unknown: [] }],
  ['ghost', { uid: 0, gid: 0, unknown: ['user ghost'] }],
  ['ghost:staff', { uid: 0, gid: 50, unknown: ['user ghost'] }],
  ['app:nogroup', { uid: 1000, gid: 1001, unknown: ['group nogroup'] }],
])('WORKDIR under USER %s makes directories owned by %j', (spec, expected) => {
  expect(resolveFileOwner(spec, passwd, group)).toEqual(expected);
});

test('WORKDIR in an image without /etc/passwd: numbers are owners, names stand for 0', () => {
  expect(resolveFileOwner('1000', undefined, undefined)).toEqual({ uid: 1000, gid: 1000, unknown: [] });
  expect(resolveFileOwner('app:staff', undefined, undefined)).toEqual({
    uid: 0,
    gid: 0,
    unknown: ['user app', 'group staff'],
  });
});

test.each([
  ['4294967296', 'uid 4294967296 is out of range'],
  ['0:4294967296', 'gid 4294967296 is out of range'],
  ['evil', 'user evil has uid 4294967296 in /etc/passwd'],
  ['badgid', 'user badgid has gid 4294967296 in /etc/passwd'],
  ['root:wrap', 'group wrap has gid 4294967296 in /etc/group'],
])('WORKDIR under USER %s is out of range: %s', (spec, message) => {
  expect(resolveFileOwner(spec, hostile, hostileGroups)).toEqual({
    error: expect.stringContaining(message) as unknown,
    kind: 'range',
  });
});

test("WORKDIR under USER badgid:0: the entry's bad gid is not used", () => {
  expect(resolveFileOwner('badgid:0', hostile, hostileGroups)).toEqual({ uid: 1000, gid: 0, unknown: [] });
});
