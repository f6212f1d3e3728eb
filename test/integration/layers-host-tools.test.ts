/**
 * Issue 6: layer features that rely on host programs (exec/layer-tools.ts) — zstd layers,
 * device nodes and fifos through mknod, extended attributes and file capabilities through
 * setfattr/getfattr — checked against the real programs and GNU tar.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { BlobStore } from '../../src/cache/blob-store.js';
import { findLayerTools, type HostLayerTools } from '../../src/exec/layer-tools.js';
import { buildLayer } from '../../src/layers/build-layer.js';
import { changesForPaths } from '../support/changes-for-paths.js';
import { extractLayer } from '../../src/layers/extract.js';
import { packChanges } from '../../src/layers/pack.js';
import { TarReader } from '../../src/layers/tar-read.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../../src/layers/tar-write.js';
import { silentLogger } from '../../src/log.js';
import { sha256Of } from '../../src/oci/digest.js';
import { bytesOfName, nameFromBytes } from '../../src/oci/file-names.js';
import { MediaType } from '../../src/oci/media-types.js';
import { Rootfs } from '../../src/rootfs/rootfs.js';
import { ContentCache } from '../../src/snapshot/content-cache.js';
import { createSnapshotter } from '../../src/snapshot/snapshotter.js';

const run = promisify(execFile);
let tools: HostLayerTools;
beforeAll(async () => {
  tools = await findLayerTools(process.env.PATH ?? '');
  expect(Object.keys(tools).sort()).toEqual(['mknod', 'xattrs', 'zstd']);
});
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-layer-tools-'));
  dirs.push(d);
  return d;
}
async function capOf(path: string): Promise<string> {
  const { stdout } = await run('getcap', [path]);
  return stdout.replace(path, '').trim();
}

test('a zstd layer made by GNU tar and the zstd program extracts; --compression=zstd writes one', async () => {
  const d = await temp();
  await mkdir(join(d, 'src', 'etc'), { recursive: true });
  await writeFile(join(d, 'src', 'etc', 'motd'), 'zstd!\n');
  await run('tar', ['--format=posix', '-cf', join(d, 'l.tar'), '-C', join(d, 'src'), 'etc']);
  await run('zstd', ['-q', join(d, 'l.tar'), '-o', join(d, 'l.tar.zst')]);
  const rootfs = new Rootfs(join(d, 'root'));
  await mkdir(rootfs.root);
  await extractLayer(rootfs, Readable.from([await readFile(join(d, 'l.tar.zst'))]), {
    layerName: 'zstd',
    logger: silentLogger,
    ...tools,
  });
  expect(await readFile(join(rootfs.root, 'etc', 'motd'), 'utf8')).toBe('zstd!\n');

  const store = new BlobStore(join(d, 'store'));
  const layer = await buildLayer(rootfs, await changesForPaths(rootfs, ['/etc']), store, {
    compression: 'zstd',
    compressionLevel: 19,
    ...tools,
  });
  if (!layer) throw new Error('no layer');
  expect(layer.descriptor.mediaType).toBe(MediaType.ociLayerZstd);
  const blob = await readFile(store.path(layer.descriptor.digest));
  expect([...blob.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
  expect(sha256Of(blob)).toBe(layer.descriptor.digest);
  const { stdout } = await run('zstd', ['-d', '-c', store.path(layer.descriptor.digest)], {
    encoding: 'buffer',
    maxBuffer: 1 << 24,
  });
  expect(sha256Of(stdout)).toBe(layer.diffId);
  // The same input gives the same blob.
  const again = await buildLayer(rootfs, await changesForPaths(rootfs, ['/etc']), store, {
    compression: 'zstd',
    compressionLevel: 19,
    ...tools,
  });
  expect(again?.descriptor.digest).toBe(layer.descriptor.digest);
});

test('device nodes and fifos are made through mknod with their numbers, owners and modes', async () => {
  const d = await temp();
  const tar = Buffer.concat([
    encodeHeader({ name: 'dev/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSeconds: 1 }),
    encodeHeader({
      name: 'dev/null',
      type: 'character-device',
      devmajor: 1,
      devminor: 3,
      mode: 0o666,
      uid: 0,
      gid: 0,
      size: 0,
      mtimeSeconds: 1,
    }),
    encodeHeader({
      name: 'dev/loop9',
      type: 'block-device',
      devmajor: 7,
      devminor: 9,
      mode: 0o660,
      uid: 0,
      gid: 6,
      size: 0,
      mtimeSeconds: 1,
    }),
    encodeHeader({ name: 'run/fifo', type: 'fifo', mode: 0o620, uid: 2, gid: 3, size: 0, mtimeSeconds: 1 }),
    END_OF_ARCHIVE,
  ]);
  const rootfs = new Rootfs(join(d, 'root'));
  await mkdir(rootfs.root);
  await extractLayer(rootfs, Readable.from([tar]), { layerName: 'devs', logger: silentLogger, ...tools });
  const nul = await lstat(join(rootfs.root, 'dev/null'));
  expect([nul.isCharacterDevice(), nul.rdev, nul.mode & 0o7777]).toEqual([true, (1 << 8) | 3, 0o666]);
  const loop = await lstat(join(rootfs.root, 'dev/loop9'));
  expect([loop.isBlockDevice(), loop.rdev, loop.mode & 0o7777, loop.gid]).toEqual([true, (7 << 8) | 9, 0o660, 6]);
  const fifo = await lstat(join(rootfs.root, 'run/fifo'));
  expect([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid, fifo.gid]).toEqual([true, 0o620, 2, 3]);
});

test('xattrs of a layer are applied, file capabilities survive chown, and packing records them again', async () => {
  const d = await temp();
  const cap = await (async () => {
    await writeFile(join(d, 'probe'), 'p');
    await run('setcap', ['cap_setuid,cap_net_raw+ep', join(d, 'probe')]);
    return (
      await run('getfattr', ['-n', 'security.capability', '-e', 'hex', '--only-values', join(d, 'probe')], {
        encoding: 'buffer',
      })
    ).stdout;
  })();
  const data = 'ping binary';
  const tar = Buffer.concat([
    encodeHeader({
      name: 'bin/',
      type: 'directory',
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 0,
      mtimeSeconds: 1,
      xattrs: new Map([['user.dir', Buffer.from('d')]]),
    }),
    encodeHeader({
      name: 'bin/ping',
      type: 'file',
      mode: 0o755,
      uid: 5,
      gid: 5,
      size: data.length,
      mtimeSeconds: 1,
      xattrs: new Map([
        ['security.capability', cap],
        ['user.origin', Buffer.from([0, 0xff, 0x80])],
      ]),
    }),
    Buffer.from(data),
    padding(data.length),
    END_OF_ARCHIVE,
  ]);
  const rootfs = new Rootfs(join(d, 'root'));
  await mkdir(rootfs.root);
  await extractLayer(rootfs, Readable.from([tar]), { layerName: 'caps', logger: silentLogger, ...tools });
  const ping = join(rootfs.root, 'bin/ping');
  expect(await capOf(ping)).toBe('cap_setuid,cap_net_raw=ep');
  expect((await stat(ping)).uid).toBe(5);
  const { stdout: origin } = await run('getfattr', ['-n', 'user.origin', '-e', 'hex', '--only-values', ping], {
    encoding: 'buffer',
  });
  expect([...origin]).toEqual([0, 0xff, 0x80]);
  expect((await run('getfattr', ['-n', 'user.dir', '--only-values', join(rootfs.root, 'bin')])).stdout).toBe('d');

  // Packing records the capability (as Docker and Kaniko do: security.capability only).
  const packed = packChanges(rootfs, await changesForPaths(rootfs, ['/bin']), {
    ...(tools.xattrs ? { xattrs: tools.xattrs } : {}),
  });
  const reader = new TarReader(packed);
  const seen = new Map<string, string[]>();
  for (let e = await reader.next(); e; e = await reader.next()) seen.set(e.name, [...e.xattrs.keys()]);
  expect(Object.fromEntries(seen)).toEqual({ 'bin/': [], 'bin/ping': ['security.capability'] });
  // GNU tar restores it from Kiln's layer.
  const layerPath = join(d, 'layer.tar');
  const chunks: Buffer[] = [];
  for await (const c of packChanges(rootfs, [{ kind: 'upsert', path: '/bin/ping' }], {
    ...(tools.xattrs ? { xattrs: tools.xattrs } : {}),
  }))
    chunks.push(c as Buffer);
  await writeFile(layerPath, Buffer.concat(chunks));
  await mkdir(join(d, 'x'));
  await run('tar', ['--xattrs', '--xattrs-include=*', '-xpf', layerPath, '-C', join(d, 'x')]);
  expect(await capOf(join(d, 'x/bin/ping'))).toBe('cap_setuid,cap_net_raw=ep');
});

test('full snapshot mode: a setcap alone is a change, and so is a touch; a new ctime alone of an extracted file is not', async () => {
  const d = await temp();
  const tar = Buffer.concat([
    encodeHeader({ name: 'bin/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSeconds: 1 }),
    encodeHeader({ name: 'bin/a', type: 'file', mode: 0o755, uid: 0, gid: 0, size: 1, mtimeSeconds: 1 }),
    Buffer.from('a'),
    padding(1),
    encodeHeader({ name: 'bin/b', type: 'file', mode: 0o755, uid: 0, gid: 0, size: 1, mtimeSeconds: 1 }),
    Buffer.from('b'),
    padding(1),
    END_OF_ARCHIVE,
  ]);
  const rootfs = new Rootfs(join(d, 'root'));
  await mkdir(rootfs.root);
  const contentCache = new ContentCache();
  await extractLayer(rootfs, Readable.from([tar]), { layerName: 'base', logger: silentLogger, ...tools, contentCache });
  const xattrs = tools.xattrs;
  if (!xattrs) throw new Error('no xattr tool');
  const s = createSnapshotter({
    rootfs,
    logger: silentLogger,
    now: () => new Date(),
    mode: 'full',
    contentCache,
    capabilities: (h) => xattrs.capabilities(h),
  });
  let pending = await s.begin();
  await run('setcap', ['cap_net_raw+ep', join(rootfs.root, 'bin/a')]);
  await run('chmod', ['755', join(rootfs.root, 'bin/b')]); // the ctime moves; the content identity settles it
  expect(await pending.end()).toEqual([{ kind: 'upsert', path: '/bin/a' }]);
  // A moved mtime is a change whatever the content, as Kaniko's Hasher and Docker see it.
  pending = await s.begin();
  await run('touch', [join(rootfs.root, 'bin/b')]);
  expect(await pending.end()).toEqual([{ kind: 'upsert', path: '/bin/b' }]);
});

test('names that are not UTF-8: fifos, devices and file capabilities go through the host tools byte for byte', async () => {
  const d = await temp();
  const cap = await (async () => {
    await writeFile(join(d, 'probe'), 'p');
    await run('setcap', ['cap_net_raw+ep', join(d, 'probe')]);
    return (
      await run('getfattr', ['-n', 'security.capability', '-e', 'hex', '--only-values', join(d, 'probe')], {
        encoding: 'buffer',
      })
    ).stdout;
  })();
  const name = (s: string): string => nameFromBytes(Buffer.from(s, 'latin1'));
  const dir = name('d\xfe');
  const tar = Buffer.concat([
    encodeHeader({ name: `${dir}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSeconds: 1 }),
    encodeHeader({ name: name('d\xfe/fifo\xff'), type: 'fifo', mode: 0o620, uid: 2, gid: 3, size: 0, mtimeSeconds: 1 }),
    encodeHeader({
      name: `${dir}/null`,
      type: 'character-device',
      devmajor: 1,
      devminor: 3,
      mode: 0o666,
      uid: 0,
      gid: 0,
      size: 0,
      mtimeSeconds: 1,
    }),
    encodeHeader({
      name: `${dir}/ping`,
      type: 'file',
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 1,
      mtimeSeconds: 1,
      xattrs: new Map([['security.capability', cap]]),
    }),
    Buffer.from('p'),
    padding(1),
    END_OF_ARCHIVE,
  ]);
  const rootfs = new Rootfs(join(d, 'root'));
  await mkdir(rootfs.root);
  await extractLayer(rootfs, Readable.from([tar]), { layerName: 'names', logger: silentLogger, ...tools });
  const host = (s: string): Buffer => Buffer.concat([Buffer.from(`${rootfs.root}/`), Buffer.from(s, 'latin1')]);
  const fifo = await lstat(host('d\xfe/fifo\xff'));
  expect([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid, fifo.gid]).toEqual([true, 0o620, 2, 3]);
  expect((await lstat(host('d\xfe/null'))).rdev).toBe((1 << 8) | 3);
  expect((await readdir(host('d\xfe'))).filter((n) => n.startsWith('.kiln'))).toEqual([]);
  // The capability was set (setfattr reads names as bytes) and is read back (getfattr through a descriptor).
  const packed = packChanges(rootfs, await changesForPaths(rootfs, [`/${dir}`]), {
    ...(tools.xattrs ? { xattrs: tools.xattrs } : {}),
  });
  const reader = new TarReader(packed);
  const seen = new Map<string, string[]>();
  for (let e = await reader.next(); e; e = await reader.next())
    seen.set(bytesOfName(e.name).toString('latin1'), [e.type, ...e.xattrs.keys()]);
  expect(Object.fromEntries(seen)).toEqual({
    'd\xfe/': ['directory'],
    'd\xfe/fifo\xff': ['fifo'],
    'd\xfe/null': ['character-device'],
    'd\xfe/ping': ['file', 'security.capability'],
  });
});
