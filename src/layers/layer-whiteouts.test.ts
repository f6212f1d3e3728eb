/** Per-directory whiteout bookkeeping (layer-whiteouts.ts) through extractLayer: whatever the order, only lower-layer content goes. */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { tarOf, type TarEntry } from '../../test/support/tar-fixture.js';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { extractLayer } from './extract.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A rootfs with `lower` extracted as the first layer and `upper` as the second; returns a lister. */
async function layered(lower: TarEntry[], upper: TarEntry[]): Promise<(path: string) => Promise<string[]>> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-whiteouts-'));
  dirs.push(base);
  await mkdir(join(base, 'root'));
  const rootfs = new Rootfs(join(base, 'root'));
  for (const [i, entries] of [lower, upper].entries()) {
    await extractLayer(rootfs, Readable.from([await tarOf(entries)]), { layerName: `L${i + 1}`, logger: silentLogger });
  }
  return async (path) => (await readdir(join(rootfs.root, path))).sort();
}

test('a new directory (no entry of its own) made inside a lower one keeps its entries through a later whiteout of its parent', async () => {
  const ls = await layered(
    [{ name: 'usr/lib/old', content: 'o' }],
    [
      { name: 'usr/lib/new/deep/f', content: 'n' }, // usr/lib/new and deep are made for the entry
      { name: 'usr/.wh.lib' },
    ],
  );
  expect(await ls('usr/lib')).toEqual(['new']);
  expect(await ls('usr/lib/new/deep')).toEqual(['f']);
});

test('an opaque marker of a lower directory after entries spares them at every depth, and later whiteouts there change nothing', async () => {
  const ls = await layered(
    [
      { name: 'etc/a', content: 'a' },
      { name: 'etc/sub/b', content: 'b' },
      { name: 'etc/sub/c', content: 'c' },
    ],
    [
      { name: 'etc/sub/mine', content: 'm' },
      { name: 'etc/z', content: 'z' },
      { name: 'etc/.wh..wh..opq' },
      { name: 'etc/sub/.wh.mine' }, // the layer's own: spared
      { name: 'etc/late', content: 'l' },
    ],
  );
  expect(await ls('etc')).toEqual(['late', 'sub', 'z']);
  expect(await ls('etc/sub')).toEqual(['mine']);
});

test('a whiteout before the entry of the same name removes the lower one and keeps the new one', async () => {
  const ls = await layered(
    [{ name: 'd/x/lower', content: 'l' }],
    [{ name: 'd/.wh.x' }, { name: 'd/x/upper', content: 'u' }],
  );
  expect(await ls('d/x')).toEqual(['upper']);
});

test('a directory the layer made, replaced by a file and made again, is still its own', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kiln-whiteouts-'));
  dirs.push(base);
  const ls = await layered(
    [{ name: 'keep', content: 'k' }],
    [
      { name: 'n/f', content: '1' },
      { name: 'n', content: 'now a file' },
      { name: 'n/', type: 'directory' },
      { name: 'n/g', content: '2' },
      { name: 'n/.wh.g' },
      { name: '.wh.keep' },
    ],
  );
  expect(await ls('.')).toEqual(['n']);
  expect(await ls('n')).toEqual(['g']);
});

test('a first layer of many entries in new directories: whiteouts of its own names spare them', async () => {
  const entries: TarEntry[] = [];
  for (let d = 0; d < 5; d++) for (let f = 0; f < 50; f++) entries.push({ name: `d${d}/f${f}`, content: '' });
  entries.push({ name: 'd0/.wh.f0' }, { name: 'd1/.wh..wh..opq' });
  const base = await mkdtemp(join(tmpdir(), 'kiln-whiteouts-'));
  dirs.push(base);
  await mkdir(join(base, 'root'));
  const rootfs = new Rootfs(join(base, 'root'));
  await extractLayer(rootfs, Readable.from([await tarOf(entries)]), { layerName: 'L1', logger: silentLogger });
  expect((await readdir(join(rootfs.root, 'd0'))).length).toBe(50);
  expect((await readdir(join(rootfs.root, 'd1'))).length).toBe(50);
  expect(await readFile(join(rootfs.root, 'd1/f49'), 'utf8')).toBe('');
});
