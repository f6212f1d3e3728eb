import { link, lstat, mkdir, mkdtemp, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { locate, pin, removePinned, setPinnedTimes, type PinnedPath } from './pinned-path.js';
import { Rootfs } from './rootfs.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const OLD = new Date('2001-01-01T00:00:00Z');
const NEW = new Date('2020-09-13T12:26:40Z');

/** A rootfs at BASE/root and an outside directory BASE/outside holding the sentinels d/ (empty, old mtime) and f. */
async function setup(): Promise<{ rootfs: Rootfs; r: string; outside: string }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-pinned-'));
  dirs.push(base);
  const outside = join(base, 'outside');
  await mkdir(join(outside, 'd'), { recursive: true });
  await writeFile(join(outside, 'f'), 'precious\n');
  for (const p of ['d', 'f']) await utimes(join(outside, p), OLD, OLD);
  await mkdir(join(base, 'root', 'c', 'd'), { recursive: true });
  await writeFile(join(base, 'root', 'c', 'f'), '');
  return { rootfs: new Rootfs(join(base, 'root')), r: join(base, 'root'), outside };
}

async function pinned(rootfs: Rootfs, imagePath: string): Promise<PinnedPath> {
  const p = await pin(rootfs, imagePath);
  if (!p) throw new Error(`${imagePath} is missing`);
  return p;
}

/** The outside sentinels are all there, with their old times. */
async function sentinelsUntouched(outside: string): Promise<void> {
  for (const p of ['d', 'f']) expect((await stat(join(outside, p))).mtimeMs).toBe(OLD.getTime());
}

test('acts on a pinned path that is still the same inode: removes an empty dir, keeps a filled one, sets times', async () => {
  const { rootfs, r, outside } = await setup();
  const d = await pinned(rootfs, '/c/d');
  const f = await pinned(rootfs, '/c/f');
  expect(d.kind).toBe('dir');
  expect(f.kind).toBe('file');
  expect(await setPinnedTimes(rootfs, d, NEW)).toBe(true);
  expect((await stat(join(r, 'c/d'))).mtimeMs).toBe(NEW.getTime());
  expect(await locate(rootfs, f)).toBe(join(r, 'c/f'));
  expect(await removePinned(rootfs, await pinned(rootfs, '/c'))).toBe('kept-nonempty');
  expect(await removePinned(rootfs, f)).toBe('removed');
  expect(await removePinned(rootfs, d)).toBe('removed');
  expect(await removePinned(rootfs, d)).toBe('moved'); // already gone
  await sentinelsUntouched(outside);
});

test('a path is found through a symlinked parent that resolves to the same place inside the root', async () => {
  const { rootfs, r } = await setup();
  await symlink('/c', join(r, 'alias'));
  const d = await pinned(rootfs, '/alias/d');
  expect(await locate(rootfs, d)).toBe(join(r, 'c/d'));
});

test.each([
  ['an absolute host path', (outside: string) => outside],
  ['a relative path climbing out of the root', () => '../../outside'],
])('a parent swapped for a symlink to %s: nothing outside is removed or touched', async (_what, target) => {
  const { rootfs, r, outside } = await setup();
  const d = await pinned(rootfs, '/c/d');
  const f = await pinned(rootfs, '/c/f');
  await rename(join(r, 'c'), join(r, 'c.old'));
  await symlink(target(outside), join(r, 'c'));
  expect(await locate(rootfs, d)).toBeUndefined();
  expect(await setPinnedTimes(rootfs, d, NEW)).toBe(false);
  expect(await removePinned(rootfs, f)).toBe('moved');
  expect(await removePinned(rootfs, d)).toBe('moved');
  await sentinelsUntouched(outside);
  // What Kiln made stays where the step moved it.
  expect((await lstat(join(r, 'c.old/d'))).isDirectory()).toBe(true);
});

test('a final component swapped for a symlink to an outside path is left alone, never followed', async () => {
  const { rootfs, r, outside } = await setup();
  const d = await pinned(rootfs, '/c/d');
  const f = await pinned(rootfs, '/c/f');
  await rm(join(r, 'c/d'), { recursive: true });
  await rm(join(r, 'c/f'));
  await symlink(join(outside, 'd'), join(r, 'c/d'));
  await symlink(join(outside, 'f'), join(r, 'c/f'));
  expect(await setPinnedTimes(rootfs, d, NEW)).toBe(false);
  expect(await setPinnedTimes(rootfs, f, NEW)).toBe(false);
  expect(await removePinned(rootfs, d)).toBe('moved');
  expect(await removePinned(rootfs, f)).toBe('moved');
  await sentinelsUntouched(outside);
  expect((await lstat(join(r, 'c/d'))).isSymbolicLink()).toBe(true); // the step's symlink stays
});

test('a path replaced by another inode (a hardlink to an outside file, a new directory) is left alone', async () => {
  const { rootfs, r, outside } = await setup();
  const d = await pinned(rootfs, '/c/d');
  const f = await pinned(rootfs, '/c/f');
  await rm(join(r, 'c/f'));
  await link(join(outside, 'f'), join(r, 'c/f'));
  // Made before the old one goes, so it cannot reuse its inode number.
  await mkdir(join(r, 'c/new'));
  await rename(join(r, 'c/d'), join(r, 'c/d.old'));
  await rename(join(r, 'c/new'), join(r, 'c/d'));
  expect(await setPinnedTimes(rootfs, f, NEW)).toBe(false);
  expect(await removePinned(rootfs, f)).toBe('moved');
  expect(await removePinned(rootfs, d)).toBe('moved');
  await sentinelsUntouched(outside);
  expect((await stat(join(outside, 'f'))).nlink).toBe(2);
  expect((await lstat(join(r, 'c/d'))).isDirectory()).toBe(true);
});

test('a type change on the same name is left alone, and a symlink loop in a parent is not an error', async () => {
  const { rootfs, r } = await setup();
  const d = await pinned(rootfs, '/c/d');
  await rm(join(r, 'c'), { recursive: true });
  await symlink('/c', join(r, 'c'));
  expect(await locate(rootfs, d)).toBeUndefined();
  expect(await removePinned(rootfs, d)).toBe('moved');
});
