import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { tarOf, type TarEntry as Entry } from '../../test/support/tar-fixture.js';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { FileFacts } from '../rootfs/file-facts.js';
import { indexRootfs, type FileIndex } from '../snapshot/file-index.js';
import { LiveIndex } from '../snapshot/live-index.js';
import { extractLayer } from './extract.js';

/** The index extraction keeps must be what a scan of the rootfs finds afterwards. */

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Directories' times, sizes and link counts change as entries come and go; a snapshot never compares them. */
function comparable(index: FileIndex): Record<string, FileFacts> {
  const out: Record<string, FileFacts> = {};
  for (const [p, f] of index) out[p] = f.type === 'dir' ? { ...f, mtimeMs: 0, ctimeMs: 0, size: 0, nlink: 0 } : f;
  return out;
}

test('the live index of extracted layers equals a scan of the result: whiteouts, opaque dirs, links, replaced paths', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-live-'));
  dirs.push(root);
  const rootfs = new Rootfs(root);
  const live = new LiveIndex();
  const layer = async (entries: Entry[]): Promise<void> => {
    await extractLayer(rootfs, Readable.from([await tarOf(entries)]), {
      layerName: 'L',
      logger: silentLogger,
      observer: live,
      mknod: async (host) => void (await promisify(execFile)('mkfifo', [host])),
    });
  };
  await layer([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root' },
    { name: 'usr/lib/deep/x', content: 'implicit parents' },
    { name: 'usr/bin/a', content: 'hardlinked' },
    { name: 'usr/bin/b', type: 'link', linkname: 'usr/bin/a' },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'opt/gone/x', content: 'x' },
    { name: 'opt/opq/old', content: 'old' },
    { name: 'opt/dir/inner', content: 'i' },
    { name: 'run/fifo', type: 'fifo' },
  ]);
  await layer([
    { name: 'opt/.wh.gone' },
    { name: 'opt/opq/.wh..wh..opq' },
    { name: 'opt/opq/new', content: 'new' },
    { name: 'opt/dir', content: 'a file now' },
    { name: 'etc', type: 'symlink', linkname: 'usr/etc' },
    { name: 'lib/deep/y', content: 'through the symlink' },
    { name: 'usr/bin/c', type: 'link', linkname: 'usr/bin/a' },
  ]);
  const seeded = live.take();
  const scanned = await indexRootfs(rootfs, {});
  expect(comparable(seeded)).toEqual(comparable(scanned));
  expect(scanned.has('/usr/lib/deep/y')).toBe(true);
  expect(live.take().size).toBe(0);
});

test('a scan and the live index agree after a layer that removes the whole tree below a directory it then refills', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-live-'));
  dirs.push(root);
  await mkdir(join(root, 'unused'));
  const rootfs = new Rootfs(root);
  const live = new LiveIndex();
  const apply = async (entries: Entry[]): Promise<void> =>
    extractLayer(rootfs, Readable.from([await tarOf(entries)]), {
      layerName: 'L',
      logger: silentLogger,
      observer: live,
    });
  await apply([
    { name: 'a/b/c', content: '1' },
    { name: 'a/b/d', content: '2' },
  ]);
  await apply([{ name: 'a/b/c', content: 'again' }, { name: 'a/.wh.b' }, { name: 'a/b/e', content: '3' }]);
  const scanned = await indexRootfs(rootfs, {});
  scanned.delete('/unused'); // made before extraction: not the live index's business
  expect(comparable(live.take())).toEqual(comparable(scanned));
});
