import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { tarOf, type TarEntry as Entry } from '../../test/support/tar-fixture.js';
import { afterEach, expect, test } from 'vitest';
import { FilesystemError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { extractLayer } from './extract.js';

/** Special entries of layers: devices, fifos and extended attributes, through the host-tool hooks. */

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempRoot(): Promise<{ rootfs: Rootfs }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-extract-special-'));
  dirs.push(base);
  await mkdir(join(base, 'root'));
  return { rootfs: new Rootfs(join(base, 'root')) };
}
async function apply(rootfs: Rootfs, entries: Entry[], logger: Logger = silentLogger): Promise<void> {
  await extractLayer(rootfs, Readable.from([await tarOf(entries)]), { layerName: 'L1', logger });
}
const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('device nodes are skipped with a warning; fifos are made by the mknod hook', async () => {
  const { rootfs } = await tempRoot();
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
  const bytes = await tarOf([
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'run/fifo', type: 'fifo', mode: 0o620, uid: 2, gid: 3 },
  ]);
  const made: string[] = [];
  await extractLayer(rootfs, Readable.from([bytes]), {
    layerName: 'L1',
    logger,
    mknod: async (host, kind) => {
      made.push(kind);
      if (kind === 'fifo') await promisify(execFile)('mkfifo', [host]);
      else await writeFile(host, ''); // stands in for a device node
    },
  });
  expect(made).toEqual(['char', 'fifo']);
  expect((await stat(join(rootfs.root, 'dev/null'))).mode & 0o7777).toBe(0o666);
  const fifo = await lstat(join(rootfs.root, 'run/fifo'));
  expect([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid, fifo.gid]).toEqual([true, 0o620, 2, 3]);
  await rm(join(rootfs.root, 'dev'), { recursive: true });
  await extractLayer(rootfs, Readable.from([bytes]), { layerName: 'L1', logger });
  expect(warnings.join('\n')).toMatch(/skipping character-device \/dev\/null/);
  expect(await exists(join(rootfs.root, 'dev/null'))).toBe(false);
  const failing = extractLayer(rootfs, Readable.from([bytes]), {
    layerName: 'L1',
    logger,
    mknod: () => Promise.reject(new Error('EPERM-ish')),
  });
  await expect(failing).rejects.toBeInstanceOf(FilesystemError);
});

test('a device node the system does not permit is skipped with a warning, the rest of the layer applies', async () => {
  const { rootfs } = await tempRoot();
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
  const bytes = await tarOf([
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
    { name: 'etc/after', content: 'still here' },
  ]);
  await extractLayer(rootfs, Readable.from([bytes]), {
    layerName: 'L1',
    logger,
    mknod: () => Promise.resolve('not-permitted'),
  });
  expect(warnings.join('\n')).toMatch(
    /skipping block-device \/dev\/sda in layer L1: creating device nodes is not permitted here/,
  );
  expect(await exists(join(rootfs.root, 'dev/sda'))).toBe(false);
  expect(await readFile(join(rootfs.root, 'etc/after'), 'utf8')).toBe('still here');
});

test('xattrs without a tool to apply them are reported once, not silently dropped', async () => {
  const { rootfs } = await tempRoot();
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
  await apply(rootfs, [{ name: 'bin/ping', content: 'p', pax: { 'SCHILY.xattr.security.capability': 'x' } }], logger);
  expect(warnings).toEqual([
    expect.stringMatching(
      /layer L1: extended attributes of 1 path\(s\) not applied \(e\.g\. security\.capability of \/bin\/ping\): setfattr/,
    ),
  ]);
});
