/**
 * The lock file around a layout's index update: holders never overlap, the file goes whatever the
 * holder did, a live lock held too long is a FilesystemError naming it (nothing run), and a
 * symlink planted where the lock goes is never written through.
 */
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { FilesystemError } from '../errors.js';
import { withLockFile } from './oci-layout-lock.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-layout-lock-'));
  dirs.push(d);
  return d;
}

test('holders never overlap, and the lock file is gone after each, a failing one included', async () => {
  const dir = await tempDir();
  const lock = join(dir, 'index.json.lock');
  let inside = 0;
  let most = 0;
  const holder = (fail: boolean) =>
    withLockFile(lock, async () => {
      most = Math.max(most, ++inside);
      await new Promise((r) => setImmediate(r));
      inside--;
      if (fail) throw new Error('holder failed');
    });
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => holder(i % 4 === 0)));
  expect(most).toBe(1);
  expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
  expect(await readdir(dir)).toEqual([]);
});

test('a live lock held past the timeout is a FilesystemError naming it, and nothing runs', async () => {
  const dir = await tempDir();
  const lock = join(dir, 'index.json.lock');
  await writeFile(lock, '4242\n');
  let ran = false;
  const err = await withLockFile(
    lock,
    async () => {
      ran = true;
    },
    { timeoutMs: 50, staleMs: 60_000 },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FilesystemError);
  expect(String(err)).toContain(lock);
  expect(ran).toBe(false);
  expect(await readFile(lock, 'utf8')).toBe('4242\n'); // another writer's lock is left alone
});

test('a symlink planted as the lock is not followed', async () => {
  const dir = await tempDir();
  const lock = join(dir, 'index.json.lock');
  await symlink(join(dir, 'elsewhere'), lock);
  await expect(withLockFile(lock, async () => {}, { timeoutMs: 50, staleMs: 60_000 })).rejects.toThrow(FilesystemError);
  expect(await readdir(dir)).toEqual(['index.json.lock']);
});
