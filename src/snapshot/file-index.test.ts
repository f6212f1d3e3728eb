import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Rootfs } from '../rootfs/rootfs.js';
import { diffIndexes } from './diff.js';
import { indexRootfs } from './file-index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempRoot(): Promise<Rootfs> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-index-'));
  dirs.push(dir);
  return new Rootfs(dir);
}

test('indexes lstat facts of every path, skipping ignored subtrees', async () => {
  const r = await tempRoot();
  await mkdir(join(r.root, 'bin'));
  await writeFile(join(r.root, 'bin', 'su'), 'x');
  await chown(join(r.root, 'bin', 'su'), 12, 34); // chown(2) clears setuid: chmod after
  await chmod(join(r.root, 'bin', 'su'), 0o4755);
  await symlink('../bin/su', join(r.root, 'su'));
  await mkdir(join(r.root, 'proc', 'self'), { recursive: true });
  const idx = await indexRootfs(r, { ignore: ['/proc'] });
  expect([...idx.keys()]).toEqual(['/bin', '/bin/su', '/su']);
  expect(idx.get('/bin/su')).toMatchObject({ type: 'file', mode: 0o4755, uid: 12, gid: 34, size: 1, nlink: 1 });
  expect(idx.get('/su')).toMatchObject({ type: 'symlink', linkTarget: '../bin/su' });
  expect(idx.get('/bin')?.type).toBe('dir');
});

test('a before/after index pair yields what a RUN did', async () => {
  const r = await tempRoot();
  await mkdir(join(r.root, 'etc'));
  await mkdir(join(r.root, 'var', 'cache', 'apt'), { recursive: true });
  await writeFile(join(r.root, 'var', 'cache', 'apt', 'pkg'), 'deb');
  await writeFile(join(r.root, 'etc', 'motd'), 'hi');
  await mkdir(join(r.root, 'opt', 'old'), { recursive: true });
  await writeFile(join(r.root, 'opt', 'old', 'f'), 'f');
  const before = await indexRootfs(r, {});
  // What `RUN rm -rf /var/cache/apt && echo x > /etc/new && chmod 600 /etc/motd && rm -rf /opt && mkdir /opt` does.
  await rm(join(r.root, 'var', 'cache', 'apt'), { recursive: true });
  await writeFile(join(r.root, 'etc', 'new'), 'x');
  await chmod(join(r.root, 'etc', 'motd'), 0o600);
  await rename(join(r.root, 'opt'), join(r.root, 'opt-gone'));
  await mkdir(join(r.root, 'opt'));
  await writeFile(join(r.root, 'opt', 'fresh'), 'new');
  await rm(join(r.root, 'opt-gone'), { recursive: true });
  await unlink(join(r.root, 'etc', 'new')).then(() => writeFile(join(r.root, 'etc', 'new'), 'y'));
  const after = await indexRootfs(r, {});
  expect(diffIndexes(before, after)).toEqual([
    { kind: 'upsert', path: '/etc/motd' },
    { kind: 'upsert', path: '/etc/new' },
    { kind: 'opaque', path: '/opt' },
    { kind: 'upsert', path: '/opt/fresh' },
    { kind: 'whiteout', path: '/var/cache/apt' },
  ]);
});
