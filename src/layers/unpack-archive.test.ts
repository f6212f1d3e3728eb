import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { tarOf, type TarEntry as Entry } from '../../test/support/tar-fixture.js';
import { afterEach, expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { unpackArchive } from './unpack-archive.js';
import { isTarHeader, peekBytes, sniffArchiveCompression } from './unpack-archive-sniff.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A rootfs at BASE/root with /dest made, so that escapes would land in BASE or the root. */
async function setup(): Promise<{ base: string; rootfs: Rootfs }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-unpack-'));
  dirs.push(base);
  await mkdir(join(base, 'root', 'dest'), { recursive: true });
  return { base, rootfs: new Rootfs(join(base, 'root')) };
}

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );
const unpack = async (rootfs: Rootfs, entries: Entry[]): Promise<string[]> =>
  unpackArchive(rootfs, '/dest', Readable.from([await tarOf(entries)]), { archiveName: 'a.tar', logger: silentLogger });

test('unpacks below the destination with owners, modes, links; .wh. names are plain files', async () => {
  const { rootfs } = await setup();
  const r = rootfs.root;
  const written = await unpack(rootfs, [
    { name: 'bin/tool', mode: 0o4755, uid: 7, gid: 8, content: 'x' },
    { name: 'lib/', type: 'directory', mode: 0o750 },
    { name: 'lib/.wh.gone', content: 'kept' },
    { name: 'lib/link', type: 'symlink', linkname: '../bin/tool' },
    { name: 'lib/hard', type: 'link', linkname: 'bin/tool' },
  ]);
  expect(written).toEqual([
    '/dest/bin',
    '/dest/bin/tool',
    '/dest/lib',
    '/dest/lib/.wh.gone',
    '/dest/lib/link',
    '/dest/lib/hard',
  ]);
  const tool = await stat(join(r, 'dest/bin/tool'));
  expect([tool.mode & 0o7777, tool.uid, tool.gid, tool.nlink]).toEqual([0o4755, 7, 8, 2]);
  expect((await stat(join(r, 'dest/bin'))).mode & 0o7777).toBe(0o755); // made for the entry
  expect((await stat(join(r, 'dest/lib'))).mode & 0o7777).toBe(0o750);
  expect((await stat(join(r, 'dest/lib'))).mtimeMs).toBe(1_600_000_000_000);
  expect(await readFile(join(r, 'dest/lib/.wh.gone'), 'utf8')).toBe('kept');
  expect(await readlink(join(r, 'dest/lib/link'))).toBe('../bin/tool');
});

test('names, symlinks and hardlinks cannot reach outside the destination', async () => {
  const { base, rootfs } = await setup();
  await expect(unpack(rootfs, [{ name: '../escape', content: 'x' }])).rejects.toThrow(IntegrityError);
  await expect(unpack(rootfs, [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }])).rejects.toThrow(
    /unsafe archive entry/,
  );
  // An absolute symlink is followed inside the destination only (Untar runs chrooted there).
  await unpack(rootfs, [
    { name: 'up', type: 'symlink', linkname: '/' },
    { name: 'up/inside', content: 'in' },
    { name: 'rel', type: 'symlink', linkname: '../../..' },
    { name: 'rel/also', content: 'in' },
  ]);
  expect(await readFile(join(rootfs.root, 'dest/inside'), 'utf8')).toBe('in');
  expect(await readFile(join(rootfs.root, 'dest/also'), 'utf8')).toBe('in');
  expect(await exists(join(base, 'escape'))).toBe(false);
  expect(await exists(join(rootfs.root, 'inside'))).toBe(false);
});

test('an entry replaces what is there, except a directory over a directory', async () => {
  const { rootfs } = await setup();
  await unpack(rootfs, [
    { name: 'd/', type: 'directory' },
    { name: 'd/old', content: '1' },
    { name: 'f', type: 'directory' },
  ]);
  await unpack(rootfs, [
    { name: 'd/', type: 'directory', mode: 0o700 },
    { name: 'f', content: 'now a file' },
  ]);
  expect(await readFile(join(rootfs.root, 'dest/d/old'), 'utf8')).toBe('1');
  expect((await stat(join(rootfs.root, 'dest/d'))).mode & 0o777).toBe(0o700);
  expect(await readFile(join(rootfs.root, 'dest/f'), 'utf8')).toBe('now a file');
});

test('a deferred directory mtime is not set through a parent a later entry turned into a symlink to the host', async () => {
  const { base, rootfs } = await setup();
  const old = new Date('2001-01-01T00:00:00Z');
  await mkdir(join(base, 'outside', 'b'), { recursive: true });
  await utimes(join(base, 'outside', 'b'), old, old);
  await unpack(rootfs, [
    { name: 'a/', type: 'directory' },
    { name: 'a/b/', type: 'directory' },
    { name: 'kept/', type: 'directory' },
    { name: 'a', type: 'symlink', linkname: join(base, 'outside') },
  ]);
  expect((await stat(join(base, 'outside', 'b'))).mtimeMs).toBe(old.getTime());
  expect((await stat(join(rootfs.root, 'dest/kept'))).mtimeMs).toBe(1_600_000_000_000);
});

test('a truncated archive is an integrity error', async () => {
  const { rootfs } = await setup();
  const bytes = await tarOf([{ name: 'big', content: 'x'.repeat(5000) }]);
  await expect(
    unpackArchive(rootfs, '/dest', Readable.from([bytes.subarray(0, 1024)]), {
      archiveName: 'a.tar',
      logger: silentLogger,
    }),
  ).rejects.toThrow(IntegrityError);
});

test('compression and tar headers are recognised from the bytes', async () => {
  const t = await tarOf([{ name: 'a', content: 'x' }]);
  expect(sniffArchiveCompression(gzipSync(t))).toBe('gzip');
  expect(sniffArchiveCompression(Buffer.from('BZh91AY'))).toBe('bzip2');
  expect(sniffArchiveCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
  expect(sniffArchiveCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
  expect(sniffArchiveCompression(t)).toBe('none');
  expect(isTarHeader(t)).toBe(true);
  expect(isTarHeader(Buffer.alloc(512))).toBe(false); // an empty archive is copied, not unpacked
  expect(isTarHeader(Buffer.from('hello world'.padEnd(600, ' ')))).toBe(false);
  const corrupt = Buffer.from(t);
  corrupt[0] = 0x41;
  expect(isTarHeader(corrupt)).toBe(false);
});

test('peeking gives the head and a stream of all the bytes', async () => {
  const src = Readable.from([Buffer.from('ab'), Buffer.from('cdef'), Buffer.from('gh')]);
  const { head, stream } = await peekBytes(src, 3);
  expect(head.toString()).toBe('abc');
  const all: Buffer[] = [];
  for await (const c of stream) all.push(c as Buffer);
  expect(Buffer.concat(all).toString()).toBe('abcdefgh');
  const short = await peekBytes(Readable.from([Buffer.from('x')]), 10);
  expect(short.head.toString()).toBe('x');
});
