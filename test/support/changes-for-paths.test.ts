import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Rootfs } from '../../src/rootfs/rootfs.js';
import { changesForPaths } from './changes-for-paths.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

test('each path and everything below it, canonical, sorted, deduplicated; symlinks not followed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-expand-'));
  dirs.push(root);
  await mkdir(join(root, 'app/src'), { recursive: true });
  await writeFile(join(root, 'app/src/main.js'), '');
  await writeFile(join(root, 'app/package.json'), '');
  await symlink('/app', join(root, 'current'));
  const r = new Rootfs(root);
  expect(await changesForPaths(r, ['/app/src', '/app', '/current', '/current/package.json', '/missing'])).toEqual([
    { kind: 'upsert', path: '/app' },
    { kind: 'upsert', path: '/app/package.json' },
    { kind: 'upsert', path: '/app/src' },
    { kind: 'upsert', path: '/app/src/main.js' },
    { kind: 'upsert', path: '/current' },
  ]);
});
