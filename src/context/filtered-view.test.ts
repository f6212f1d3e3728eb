import { existsSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { makeFilteredView } from './filtered-view.js';
import { PathFilter } from './path-filter.js';

let base: string;
let ctx: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-view-'));
  ctx = join(base, 'ctx');
  await mkdir(join(ctx, 'sub', 'private'), { recursive: true });
  await mkdir(join(ctx, 'logs', 'keep'), { recursive: true });
  await mkdir(join(ctx, 'logs', 'old'), { recursive: true });
  await writeFile(join(ctx, 'secret.env'), 'S');
  await writeFile(join(ctx, 'app.txt'), 'app');
  await writeFile(join(ctx, 'sub', 'ok.md'), 'ok');
  await writeFile(join(ctx, 'sub', 'private', 'key'), 'K');
  await writeFile(join(ctx, 'logs', 'keep', 'a.log'), 'a');
  await writeFile(join(ctx, 'logs', 'old', 'b.log'), 'b');
  await symlink('../secret.env', join(ctx, 'sub', 'link'));
  await chmod(join(ctx, 'sub'), 0o750);
  await utimes(join(ctx, 'sub'), 1000, 2000);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Every path under `dir`, sorted, directories with a trailing slash. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const rel = join(e.parentPath, e.name).slice(dir.length + 1);
    out.push(e.isDirectory() ? `${rel}/` : rel);
  }
  return out.sort();
}

const FILTER = new PathFilter(['secret.env', 'sub/private', 'logs', '!logs/keep']);

test('a view holds what the filter keeps: files hardlinked, symlinks as they are, directories like their sources', async () => {
  const view = join(base, 'view');
  const stats = await makeFilteredView(ctx, '', FILTER, view);
  expect(await tree(view)).toEqual([
    'app.txt',
    'logs/',
    'logs/keep/',
    'logs/keep/a.log',
    'sub/',
    'sub/link',
    'sub/ok.md',
  ]);
  expect((await lstat(join(view, 'app.txt'))).ino).toBe((await lstat(join(ctx, 'app.txt'))).ino);
  expect(await readlink(join(view, 'sub', 'link'))).toBe('../secret.env');
  const sub = await lstat(join(view, 'sub'));
  expect([sub.mode & 0o7777, sub.mtimeMs]).toEqual([0o750, 2_000_000]);
  expect(stats).toMatchObject({ files: 3, symlinks: 1, copied: 0 });
});

test('a subdirectory is filtered with paths relative to the context root', async () => {
  const view = join(base, 'view');
  await makeFilteredView(join(ctx, 'sub'), 'sub', FILTER, view);
  expect(await tree(view)).toEqual(['link', 'ok.md']);
});

test('names that are not UTF-8 are kept as bytes', async () => {
  const odd = Buffer.concat([Buffer.from(join(ctx, 'bad')), Buffer.from([0xff]), Buffer.from('name')]);
  await writeFile(odd, 'x');
  const view = join(base, 'view');
  await makeFilteredView(ctx, '', FILTER, view);
  const names = await readdir(Buffer.from(view), { encoding: 'buffer' });
  expect(
    names.some((n) => n.equals(Buffer.concat([Buffer.from('bad'), Buffer.from([0xff]), Buffer.from('name')]))),
  ).toBe(true);
});

test.skipIf(!existsSync('/dev/shm'))('on another filesystem files are copied with their mode', async () => {
  const other = await mkdtemp('/dev/shm/kiln-view-');
  try {
    const view = join(other, 'view');
    await chmod(join(ctx, 'app.txt'), 0o640);
    const stats = await makeFilteredView(ctx, '', FILTER, view);
    if ((await lstat(other)).dev === (await lstat(ctx)).dev) return; // same filesystem here: nothing to prove
    expect(stats).toMatchObject({ files: 3, copied: 3 });
    expect(await readFile(join(view, 'logs', 'keep', 'a.log'), 'utf8')).toBe('a');
    expect((await lstat(join(view, 'app.txt'))).mode & 0o777).toBe(0o640);
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});
