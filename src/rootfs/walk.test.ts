import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Rootfs } from './rootfs.js';
import { walk } from './walk.js';

let root: string;
let rootfs: Rootfs;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-walk-'));
  for (const d of ['b', 'a/z', 'a/y', 'proc/1', 'data/sub']) await mkdir(join(root, d), { recursive: true });
  for (const f of ['a/z/f', 'a/B', 'a-b', 'proc/1/status', 'data/sub/x']) await writeFile(join(root, f), f);
  await symlink('/data', join(root, 'link'));
  rootfs = new Rootfs(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function paths(opts?: Parameters<typeof walk>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walk(rootfs, opts)) out.push(e.path);
  return out;
}

test('walks depth-first in byte order, without the root, not following symlinks', async () => {
  expect(await paths()).toEqual([
    '/a',
    '/a/B',
    '/a/y',
    '/a/z',
    '/a/z/f',
    '/a-b',
    '/b',
    '/data',
    '/data/sub',
    '/data/sub/x',
    '/link',
    '/proc',
    '/proc/1',
    '/proc/1/status',
  ]);
});

test('skip leaves out a path and everything below it', async () => {
  expect(await paths({ skip: (p) => p === '/proc' || p === '/a/z' })).toEqual([
    '/a',
    '/a/B',
    '/a/y',
    '/a-b',
    '/b',
    '/data',
    '/data/sub',
    '/data/sub/x',
    '/link',
  ]);
});

test('start walks one subtree, itself included; symlinked parents give canonical paths', async () => {
  expect(await paths({ start: '/a/z' })).toEqual(['/a/z', '/a/z/f']);
  expect(await paths({ start: '/link/sub' })).toEqual(['/data/sub', '/data/sub/x']);
  expect(await paths({ start: '/link' })).toEqual(['/link']);
  expect(await paths({ start: '/a-b' })).toEqual(['/a-b']);
  expect(await paths({ start: '/missing' })).toEqual([]);
});

test('yields host paths and bigint lstat facts', async () => {
  for await (const e of walk(rootfs, { start: '/a/z/f' })) {
    expect(e.host).toBe(join(root, 'a/z/f'));
    expect(e.stat.isFile()).toBe(true);
    expect(typeof e.stat.ino).toBe('bigint');
  }
});
