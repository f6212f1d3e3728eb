/**
 * What a layer writer does after the last entry (deferred directory mtimes, extended attributes)
 * lands on the inodes the entries made, never through a parent a later entry turned into a symlink.
 */
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { tarOf, type TarEntry } from '../../test/support/tar-fixture.js';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { extractLayer } from './extract.js';
import type { XattrItem, XattrTool } from './tools.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const OLD = new Date('2001-01-01T00:00:00Z');
const TAR_TIME = new Date(1_000_000_000_000);

/** A rootfs at BASE/root and an outside directory BASE/outside holding b/ and b/f with old times. */
async function setup(): Promise<{ rootfs: Rootfs; outside: string }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-layer-writer-'));
  dirs.push(base);
  const outside = join(base, 'outside');
  await mkdir(join(outside, 'b'), { recursive: true });
  await writeFile(join(outside, 'b', 'f'), 'precious\n');
  await utimes(join(outside, 'b'), OLD, OLD);
  await mkdir(join(base, 'root'));
  return { rootfs: new Rootfs(join(base, 'root')), outside };
}

/** An XattrTool that only records what it was asked to set. */
function recordingTool(): XattrTool & { items: XattrItem[] } {
  const items: XattrItem[] = [];
  return {
    items,
    set: (batch) => {
      items.push(...batch);
      return Promise.resolve([]);
    },
    capabilities: () => Promise.resolve(new Map()),
  };
}

async function apply(rootfs: Rootfs, entries: TarEntry[], xattrs?: XattrTool): Promise<void> {
  await extractLayer(rootfs, Readable.from([await tarOf(entries)]), {
    layerName: 'L1',
    logger: silentLogger,
    ...(xattrs ? { xattrs } : {}),
  });
}

test('a deferred directory mtime is not set through a parent a later entry turned into a symlink to the host', async () => {
  const { rootfs, outside } = await setup();
  await apply(rootfs, [
    { name: 'a/', type: 'directory', mtime: TAR_TIME },
    { name: 'a/b/', type: 'directory', mtime: TAR_TIME },
    { name: 'kept/', type: 'directory', mtime: TAR_TIME },
    { name: 'a', type: 'symlink', linkname: outside },
  ]);
  expect((await stat(join(outside, 'b'))).mtimeMs).toBe(OLD.getTime());
  // Directories still where they were get their times as before.
  expect((await stat(join(rootfs.root, 'kept'))).mtimeMs).toBe(TAR_TIME.getTime());
});

test('a directory replaced by another one later in the layer gets the later entry’s time', async () => {
  const { rootfs } = await setup();
  await apply(rootfs, [
    { name: 'd/', type: 'directory', mtime: TAR_TIME },
    { name: 'd', type: 'symlink', linkname: 'x' },
    { name: 'd/', type: 'directory', mtime: new Date(1_100_000_000_000) },
  ]);
  expect((await stat(join(rootfs.root, 'd'))).mtimeMs).toBe(1_100_000_000_000);
});

test('extended attributes land on the written inodes only, never through a swapped parent', async () => {
  const { rootfs, outside } = await setup();
  const tool = recordingTool();
  const xattr = { 'SCHILY.xattr.user.note': 'hi' };
  await apply(
    rootfs,
    [
      { name: 'a/', type: 'directory' },
      { name: 'a/b/', type: 'directory', pax: xattr },
      { name: 'a/b/f', content: 'x', pax: xattr },
      { name: 'c/f', content: 'y', pax: xattr },
      { name: 'a', type: 'symlink', linkname: outside },
    ],
    tool,
  );
  expect(tool.items.map((i) => i.host)).toEqual([join(rootfs.root, 'c/f')]);
});
