import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { clearRootfs } from './clear.js';
import { Rootfs } from './rootfs.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A directory standing in for `/`, with a small container filesystem in it (and a victim beside it). */
async function fakeRoot(): Promise<{ base: string; rootfs: Rootfs }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-clear-'));
  dirs.push(base);
  const r = join(base, 'root');
  for (const d of ['usr/bin', 'etc', 'kaniko/bin', 'workspace/src', 'var/lib', 'proc/1', 'outside-target'])
    await mkdir(join(r, d), { recursive: true });
  await writeFile(join(r, 'usr/bin/sh'), 'sh');
  await writeFile(join(r, 'etc/passwd'), 'root');
  await writeFile(join(r, 'etc/resolv.conf'), 'nameserver 1');
  await writeFile(join(r, 'kaniko/bin/executor'), 'kiln');
  await writeFile(join(r, 'workspace/src/main.c'), 'int main');
  await writeFile(join(r, 'proc/1/status'), 'x');
  await mkdir(join(base, 'victim'));
  await writeFile(join(base, 'victim/file'), 'must survive');
  await symlink('usr/bin', join(r, 'bin'));
  await symlink(join(base, 'victim'), join(r, 'var/lib/escape'));
  // A symlink on the way to a kept path: left as it is rather than risk what is behind it.
  await symlink('workspace', join(r, 'ws'));
  return { base, rootfs: new Rootfs(r) };
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    out.push(join(e.parentPath, e.name).slice(dir.length));
  return out.sort();
}

test('clearing keeps kept paths and the directories leading to them, removes the rest, never follows symlinks', async () => {
  const { base, rootfs } = await fakeRoot();
  const removed = clearRootfs(rootfs, ['/etc/resolv.conf', '/kaniko', '/proc', '/workspace', '/ws/src']);
  expect(await tree(rootfs.root)).toEqual([
    '/etc',
    '/etc/resolv.conf',
    '/kaniko',
    '/kaniko/bin',
    '/kaniko/bin/executor',
    '/proc',
    '/proc/1',
    '/proc/1/status',
    '/workspace',
    '/workspace/src',
    '/workspace/src/main.c',
    '/ws',
  ]);
  expect(removed).toBe(5); // /bin, /etc/passwd, /outside-target, /usr, /var
  expect(await readFile(join(base, 'victim/file'), 'utf8')).toBe('must survive');
});

test('with nothing kept, the root is emptied but stays', async () => {
  const { base, rootfs } = await fakeRoot();
  clearRootfs(rootfs, []);
  expect(await readdir(rootfs.root)).toEqual([]);
  expect(await readFile(join(base, 'victim/file'), 'utf8')).toBe('must survive');
});
