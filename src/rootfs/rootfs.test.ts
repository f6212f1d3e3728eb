import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FilesystemError } from '../errors.js';
import { CachedResolver, Rootfs } from './rootfs.js';

let base: string;
let root: string;
let outside: string;
let rootfs: Rootfs;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-rootfs-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'a', 'b'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(join(outside, 'secret'), 'host secret\n');
  await symlink('/etc', join(root, 'abs')); // absolute: relative to the image root
  await symlink('../../..', join(root, 'up')); // climbs above the root
  await symlink('/..', join(root, 'rootdotdot'));
  await symlink('../../../../etc', join(root, 'a', 'b', 'deep'));
  await symlink('chain2', join(root, 'chain1'));
  await symlink('/a/../chain3', join(root, 'chain2'));
  await symlink('up/../abs', join(root, 'chain3'));
  await symlink(outside, join(root, 'hostabs')); // the host path of a dir outside
  await symlink('loop', join(root, 'loop'));
  rootfs = new Rootfs(root);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

test.each([
  ['/etc/passwd', 'etc/passwd'],
  ['etc/passwd', 'etc/passwd'],
  ['/abs/passwd', 'etc/passwd'],
  ['/up/etc/passwd', 'etc/passwd'],
  ['/up/up/up/etc/passwd', 'etc/passwd'],
  ['/rootdotdot/etc/passwd', 'etc/passwd'],
  ['/../../etc/passwd', 'etc/passwd'],
  ['/a/b/deep/passwd', 'etc/passwd'],
  ['/chain1/passwd', 'etc/passwd'],
  ['/missing/../etc/passwd', 'etc/passwd'],
  ['/abs/../../..', ''],
  ['/abs', 'abs'],
  ['/up', 'up'],
  ['/', ''],
  ['/a/./b//', 'a/b'],
])('resolve(%j) stays inside the root at %j', async (imagePath, rel) => {
  expect(await rootfs.resolve(imagePath)).toBe(rel === '' ? root : join(root, rel));
});

test.each([
  ['/abs', 'etc'],
  ['/up', ''],
  ['/chain1', 'etc'],
  ['/a/b/deep', 'etc'],
])('resolve(%j, followFinal) follows the last symlink inside the root to %j', async (imagePath, rel) => {
  expect(await rootfs.resolve(imagePath, { followFinal: true })).toBe(rel === '' ? root : join(root, rel));
});

test('an absolute symlink to a host directory points into the root, never at the host', async () => {
  const host = await rootfs.resolve('/hostabs/secret');
  expect(host).toBe(join(root, outside, 'secret'));
  expect(host.startsWith(`${root}/`)).toBe(true);
});

test('a symlink loop fails like ELOOP', async () => {
  await expect(rootfs.resolve('/loop/x')).rejects.toBeInstanceOf(FilesystemError);
  await expect(rootfs.resolve('/loop/x')).rejects.toThrow(/too many levels of symbolic links/);
  // Not followed as the final component: the link itself is the answer.
  expect(await rootfs.resolve('/loop')).toBe(join(root, 'loop'));
});

test('imagePathOf inverts resolve and refuses paths outside the root', () => {
  expect(rootfs.imagePathOf(join(root, 'etc', 'passwd'))).toBe('/etc/passwd');
  expect(rootfs.imagePathOf(root)).toBe('/');
  expect(() => rootfs.imagePathOf(outside)).toThrow(/outside the rootfs/);
});

test('CachedResolver agrees with resolve', async () => {
  const cached = new CachedResolver(rootfs);
  for (const p of [
    '/etc/passwd',
    '/abs/passwd',
    '/up/etc/passwd',
    '/chain1/passwd',
    '/abs',
    '/missing/x',
    '/a/b/deep/..',
    '/',
    '/abs/passwd',
  ]) {
    expect(await cached.resolve(p)).toBe(await rootfs.resolve(p));
  }
});

test('CachedResolver sees a new symlink only after clear()', async () => {
  const cached = new CachedResolver(rootfs);
  expect(await cached.resolve('/later/passwd')).toBe(join(root, 'later', 'passwd'));
  await symlink('/etc', join(root, 'later'));
  try {
    expect(await cached.resolve('/later/passwd')).toBe(join(root, 'later', 'passwd')); // stale, by contract
    cached.clear();
    expect(await cached.resolve('/later/passwd')).toBe(join(root, 'etc', 'passwd'));
  } finally {
    await rm(join(root, 'later'));
  }
});

test('the root must be absolute', () => {
  expect(() => new Rootfs('relative/root')).toThrow(/absolute/);
  expect(new Rootfs('/x/y/').root).toBe('/x/y');
});
