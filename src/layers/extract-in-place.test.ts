/**
 * Extraction for an in-place build (`--rootfs=/`) into a temp directory standing in for `/`:
 * kept paths (mount points, Kiln's directory, --ignore-paths) are neither written nor removed.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { tarOf, type TarEntry } from '../../test/support/tar-fixture.js';
import { silentLogger, type Logger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { extractLayer } from './extract.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const KEEP = ['/dev', '/etc/resolv.conf', '/kaniko', '/workspace'];

/** A "container root" holding kept content: Kiln's directory, a volume, a bind-mounted resolv.conf. */
async function containerRoot(): Promise<Rootfs> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-inplace-'));
  dirs.push(base);
  const r = join(base, 'root');
  for (const d of ['kaniko/bin', 'workspace', 'etc', 'dev']) await mkdir(join(r, d), { recursive: true });
  await writeFile(join(r, 'kaniko/bin/executor'), 'kiln');
  await writeFile(join(r, 'workspace/Dockerfile'), 'FROM x');
  await writeFile(join(r, 'etc/resolv.conf'), 'nameserver 10.0.0.10');
  await writeFile(join(r, 'dev/null'), '');
  return new Rootfs(r);
}

function recorder(): { logger: Logger; debug: string[] } {
  const debug: string[] = [];
  return { logger: { ...silentLogger, debug: (m: string) => debug.push(m) }, debug };
}

async function apply(rootfs: Rootfs, entries: TarEntry[], logger: Logger = silentLogger): Promise<void> {
  await extractLayer(rootfs, Readable.from([await tarOf(entries)]), { layerName: 'L1', logger, ignore: KEEP });
}

const read = (rootfs: Rootfs, p: string): Promise<string> => readFile(join(rootfs.root, p), 'utf8');
const exists = (rootfs: Rootfs, p: string): Promise<boolean> =>
  lstat(join(rootfs.root, p)).then(
    () => true,
    () => false,
  );

test('entries at or below kept paths are skipped with a debug line; the rest is extracted', async () => {
  const rootfs = await containerRoot();
  const { logger, debug } = recorder();
  await apply(
    rootfs,
    [
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { name: 'etc/resolv.conf', content: 'nameserver 8.8.8.8' },
      { name: 'kaniko/', type: 'directory', mode: 0o700 },
      { name: 'kaniko/bin/executor', content: 'evil' },
      { name: 'workspace', type: 'symlink', linkname: '/tmp' },
      { name: 'dev/null', content: 'not a device' },
    ],
    logger,
  );
  expect(await read(rootfs, 'etc/passwd')).toBe('root:x:0:0::/root:/bin/sh\n');
  expect(await read(rootfs, 'etc/resolv.conf')).toBe('nameserver 10.0.0.10');
  expect(await read(rootfs, 'kaniko/bin/executor')).toBe('kiln');
  expect((await lstat(join(rootfs.root, 'kaniko'))).mode & 0o777).toBe(0o755);
  expect((await lstat(join(rootfs.root, 'workspace'))).isDirectory()).toBe(true);
  expect(await read(rootfs, 'dev/null')).toBe('');
  expect(debug).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^skipping \/etc\/resolv\.conf in layer L1: the in-place build keeps it/),
      expect.stringMatching(/^skipping \/kaniko\/bin\/executor/),
      expect.stringMatching(/^skipping \/workspace/),
    ]),
  );
});

test('a symlink of the layer cannot lead an entry into a kept path', async () => {
  const rootfs = await containerRoot();
  await apply(rootfs, [
    { name: 'opt', type: 'symlink', linkname: '/kaniko/bin' },
    { name: 'opt/executor', content: 'evil' },
    { name: 'opt/new', content: 'evil' },
  ]);
  expect(await read(rootfs, 'kaniko/bin/executor')).toBe('kiln');
  expect(await exists(rootfs, 'kaniko/bin/new')).toBe(false);
});

test('a hardlink to a kept file is skipped', async () => {
  const rootfs = await containerRoot();
  await apply(rootfs, [{ name: 'usr/bin/executor', type: 'link', linkname: 'kaniko/bin/executor' }]);
  expect(await exists(rootfs, 'usr/bin/executor')).toBe(false);
});

test('whiteouts and opaque directories spare kept paths and the directories holding them', async () => {
  const rootfs = await containerRoot();
  await writeFile(join(rootfs.root, 'etc/hostname'), 'old');
  await apply(rootfs, [
    { name: '.wh.workspace', content: '' },
    { name: '.wh.kaniko', content: '' },
    { name: 'etc/.wh..wh..opq', content: '' },
    { name: 'etc/os-release', content: 'ID=base' },
  ]);
  expect(await read(rootfs, 'workspace/Dockerfile')).toBe('FROM x');
  expect(await read(rootfs, 'kaniko/bin/executor')).toBe('kiln');
  expect((await readdir(join(rootfs.root, 'etc'))).sort()).toEqual(['os-release', 'resolv.conf']);
  await apply(rootfs, [{ name: '.wh.etc', content: '' }]);
  expect(await readdir(join(rootfs.root, 'etc'))).toEqual(['resolv.conf']);
});

test('a non-directory cannot replace a directory holding a kept path', async () => {
  const rootfs = await containerRoot();
  await apply(rootfs, [{ name: 'etc', type: 'symlink', linkname: '/usr/etc' }]);
  expect((await lstat(join(rootfs.root, 'etc'))).isDirectory()).toBe(true);
  expect(await read(rootfs, 'etc/resolv.conf')).toBe('nameserver 10.0.0.10');
});

test('without kept paths extraction is unchanged: a whiteout removes the whole tree', async () => {
  const rootfs = await containerRoot();
  await extractLayer(rootfs, Readable.from([await tarOf([{ name: '.wh.workspace', content: '' }])]), {
    layerName: 'L1',
    logger: silentLogger,
  });
  expect(await exists(rootfs, 'workspace')).toBe(false);
});

test('entries under a kept symlink of the container are skipped by name, not resolved through it', async () => {
  const rootfs = await containerRoot();
  // The container's /var/run leads above the root: strict resolution would refuse the layer.
  await mkdir(join(rootfs.root, 'var'));
  await symlink('../../../run', join(rootfs.root, 'var/run'));
  await extractLayer(
    rootfs,
    Readable.from([
      await tarOf([
        { name: 'var/run/lock', type: 'directory' },
        { name: 'var/run/.wh.pid', content: '' },
        { name: 'var/lib/x', content: 'x' },
      ]),
    ]),
    {
      layerName: 'L1',
      logger: silentLogger,
      ignore: [...KEEP, '/var/run'],
    },
  );
  expect(await read(rootfs, 'var/lib/x')).toBe('x');
});
