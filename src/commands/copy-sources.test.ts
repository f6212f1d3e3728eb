import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PathFilter } from '../context/path-filter.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { matchParents, matchSource, type SourceTree } from './copy-sources.js';

let base = '';
let tree: SourceTree;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-sources-'));
  const ctx = join(base, 'ctx');
  for (const f of [
    'a.txt',
    'b.txt',
    'c.md',
    'secret.txt',
    'x/a.txt',
    'x/y/b.txt',
    'x/y/c.md',
    'src/p/q/d.txt',
    'docs/keep.md',
    'docs/drop.md',
    'a*b',
  ]) {
    await mkdir(dirname(join(ctx, f)), { recursive: true });
    await writeFile(join(ctx, f), f);
  }
  await writeFile(join(base, 'outside.txt'), 'host');
  await symlink('/x', join(ctx, 'abs-link')); // resolves inside the context, like a chroot
  await symlink('../../outside.txt', join(ctx, 'escape'));
  tree = {
    root: new Rootfs(ctx),
    ignore: new PathFilter(['secret.txt', 'docs', '!docs/keep.md']),
    label: 'the build context',
  };
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const paths = async (src: string, parents = false): Promise<string[]> =>
  (await (parents ? matchParents(tree, src) : matchSource(tree, src))).map((m) =>
    m.keep === undefined ? m.entry.imagePath : `${m.entry.imagePath} keeps ${m.keep}`,
  );

test.each([
  ['a.txt', ['/a.txt']],
  ['./a.txt', ['/a.txt']],
  ['/a.txt', ['/a.txt']],
  ['../a.txt', ['/a.txt']], // `..` stops at the context root (BuildKit normalises it away)
  ['*.txt', ['/a.txt', '/b.txt']], // secret.txt is ignored
  ['x/*/b.txt', ['/x/y/b.txt']],
  ['?.md', ['/c.md']],
  ['a\\*b', ['/a*b']],
  ['secret.txt', []],
  ['docs', ['/docs']], // ignored, but an exception reaches inside it
  ['docs/drop.md', []],
  ['docs/keep.md', ['/docs/keep.md']],
  ['nothing*', []],
  ['missing', []],
])('source %j matches %j', async (src, expected) => {
  expect(await paths(src)).toEqual(expected);
});

test('symlinks resolve inside the context, never to the host', async () => {
  const [abs] = await matchSource(tree, 'abs-link');
  expect(abs?.entry).toMatchObject({ imagePath: '/abs-link', resolvedPath: '/x', isDir: true });
  expect(abs?.name).toBe('abs-link');
  expect(await matchSource(tree, 'escape')).toEqual([]); // would be <ctx>/outside.txt, which does not exist
});

test.each([
  ['./x/a.txt', ['/x/a.txt keeps x/a.txt']],
  ['x/y/*.md', ['/x/y/c.md keeps x/y/c.md']],
  ['./x/./y/*.txt', ['/x/y/b.txt keeps y/b.txt']],
  ['src/**/*.txt', ['/src/p/q/d.txt keeps src/p/q/d.txt']],
  ['**/b.txt', ['/b.txt keeps b.txt', '/x/y/b.txt keeps x/y/b.txt']],
  ['*.txt', ['/a.txt keeps a.txt', '/b.txt keeps b.txt']],
  ['x', ['/x keeps x']],
  ['docs/*', ['/docs/keep.md keeps docs/keep.md']],
])('--parents source %j matches %j', async (src, expected) => {
  expect(await paths(src, true)).toEqual(expected);
});
