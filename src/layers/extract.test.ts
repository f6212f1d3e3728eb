import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { tarOf, type TarEntry as Entry } from '../../test/support/tar-fixture.js';
import { afterEach, expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { extractLayer } from './extract.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
/** A rootfs at BASE/root, so that escapes would land in BASE where the test can look. */
async function tempRoot(): Promise<{ base: string; rootfs: Rootfs }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-extract-'));
  dirs.push(base);
  await mkdir(join(base, 'root'));
  return { base, rootfs: new Rootfs(join(base, 'root')) };
}
async function apply(rootfs: Rootfs, entries: Entry[] | Buffer, logger: Logger = silentLogger): Promise<void> {
  const bytes = Buffer.isBuffer(entries) ? entries : await tarOf(entries);
  await extractLayer(rootfs, Readable.from([bytes]), { layerName: 'L1', logger });
}
const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('extracts files, dirs, symlinks and hardlinks with owners, modes and mtimes', async () => {
  const { rootfs } = await tempRoot();
  const r = rootfs.root;
  await apply(rootfs, [
    { name: 'usr/', type: 'directory', mode: 0o755, mtime: new Date(1_000_000_000_000) },
    { name: 'usr/bin/', type: 'directory', mode: 0o711, uid: 5, gid: 6, mtime: new Date(1_100_000_000_000) },
    { name: 'usr/bin/su', mode: 0o4755, uid: 0, gid: 0, content: 'su!' },
    { name: 'usr/bin/grp', mode: 0o2711, uid: 7, gid: 8, content: 'g' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'usr/bin/sh', type: 'symlink', linkname: '/bin/busybox', uid: 3, gid: 4 },
    { name: 'usr/bin/su2', type: 'link', linkname: 'usr/bin/su' },
  ]);
  const su = await stat(join(r, 'usr/bin/su'));
  expect(await readFile(join(r, 'usr/bin/su'), 'utf8')).toBe('su!');
  expect(su.mode & 0o7777).toBe(0o4755);
  expect(su.mtimeMs).toBe(1_600_000_000_000);
  const grp = await stat(join(r, 'usr/bin/grp'));
  expect([grp.mode & 0o7777, grp.uid, grp.gid]).toEqual([0o2711, 7, 8]);
  expect((await stat(join(r, 'tmp'))).mode & 0o7777).toBe(0o1777);
  const bin = await stat(join(r, 'usr/bin'));
  expect([bin.mode & 0o7777, bin.uid, bin.gid, bin.mtimeMs]).toEqual([0o711, 5, 6, 1_100_000_000_000]);
  expect((await stat(join(r, 'usr'))).mtimeMs).toBe(1_000_000_000_000);
  expect(await readlink(join(r, 'usr/bin/sh'))).toBe('/bin/busybox');
  const sh = await lstat(join(r, 'usr/bin/sh'));
  expect([sh.uid, sh.gid]).toEqual([3, 4]);
  const su2 = await stat(join(r, 'usr/bin/su2'));
  expect(su2.ino).toBe(su.ino);
  expect(su2.nlink).toBe(2);
});

test('a whiteout removes the lower layer path, and only that', async () => {
  const { rootfs } = await tempRoot();
  await apply(rootfs, [
    { name: 'a/', type: 'directory' },
    { name: 'a/x/', type: 'directory' },
    { name: 'a/x/deep', content: '1' },
    { name: 'a/y', content: '2' },
  ]);
  await apply(rootfs, [{ name: 'a/.wh.x', content: '' }]);
  expect(await readdir(join(rootfs.root, 'a'))).toEqual(['y']);
});

test('a whiteout does not remove what its own layer wrote (OCI: whiteouts apply to lower layers)', async () => {
  const { rootfs } = await tempRoot();
  await apply(rootfs, [{ name: 'a/old', content: 'lower' }]);
  await apply(rootfs, [{ name: 'a/old', content: 'upper' }, { name: 'a/.wh.old' }]);
  expect(await readFile(join(rootfs.root, 'a/old'), 'utf8')).toBe('upper');
});

test('an opaque whiteout empties the directory of lower content, keeping this layer’s entries', async () => {
  const { rootfs } = await tempRoot();
  await apply(rootfs, [
    { name: 'd/', type: 'directory' },
    { name: 'd/old', content: 'o' },
    { name: 'd/sub/', type: 'directory' },
    { name: 'd/sub/lower', content: 'l' },
    { name: 'keep', content: 'k' },
  ]);
  await apply(rootfs, [
    { name: 'd/', type: 'directory', mode: 0o750 },
    { name: 'd/sub/mine', content: 'm' }, // before the marker: must survive it
    { name: 'd/.wh..wh..opq' },
    { name: 'd/new', content: 'n' },
  ]);
  expect((await readdir(join(rootfs.root, 'd'))).sort()).toEqual(['new', 'sub']);
  expect(await readdir(join(rootfs.root, 'd/sub'))).toEqual(['mine']);
  expect(await exists(join(rootfs.root, 'keep'))).toBe(true);
  expect((await stat(join(rootfs.root, 'd'))).mode & 0o7777).toBe(0o750);
});

test('an entry replaces an existing path of another type; dir over dir only updates metadata', async () => {
  const { rootfs } = await tempRoot();
  await apply(rootfs, [
    { name: 'was-dir/', type: 'directory' },
    { name: 'was-dir/child', content: 'c' },
    { name: 'was-file', content: 'f' },
    { name: 'merge/', type: 'directory' },
    { name: 'merge/lower', content: 'l' },
    { name: 'link', type: 'symlink', linkname: '/merge' },
  ]);
  await apply(rootfs, [
    { name: 'was-dir', content: 'now a file' },
    { name: 'was-file/', type: 'directory' },
    { name: 'was-file/inner', content: 'i' },
    { name: 'merge/', type: 'directory', mode: 0o700, uid: 9 },
    { name: 'link', content: 'no longer a link' },
  ]);
  const r = rootfs.root;
  expect(await readFile(join(r, 'was-dir'), 'utf8')).toBe('now a file');
  expect(await readdir(join(r, 'was-file'))).toEqual(['inner']);
  expect(await readdir(join(r, 'merge'))).toEqual(['lower']);
  expect((await stat(join(r, 'merge'))).uid).toBe(9);
  expect((await lstat(join(r, 'link'))).isFile()).toBe(true);
});

test('rewriting a hardlinked file does not change its other links', async () => {
  const { rootfs } = await tempRoot();
  await apply(rootfs, [
    { name: 'a', content: 'same' },
    { name: 'b', type: 'link', linkname: 'a' },
  ]);
  await apply(rootfs, [{ name: 'b', content: 'new b' }]);
  expect(await readFile(join(rootfs.root, 'a'), 'utf8')).toBe('same');
  expect(await readFile(join(rootfs.root, 'b'), 'utf8')).toBe('new b');
});

test.each([
  ['../evil', [{ name: '../evil', content: 'x' }]],
  ['a/../../evil', [{ name: 'a/../../evil', content: 'x' }]],
  ['hardlink to /../../etc/passwd', [{ name: 'evil', type: 'link', linkname: '/../../etc/passwd' }]],
  ['hardlink to ../evil-target', [{ name: 'x', type: 'link', linkname: '../evil-target' }]],
  ['whiteout named ..', [{ name: 'a/.wh...' }]],
] as [string, Entry[]][])('rejects %s with IntegrityError and writes nothing outside the root', async (_n, entries) => {
  const { base, rootfs } = await tempRoot();
  await writeFile(join(base, 'evil-target'), 'outside');
  const run = apply(rootfs, entries);
  await expect(run).rejects.toBeInstanceOf(IntegrityError);
  await expect(run).rejects.toThrow(/layer L1: unsafe tar entry/);
  expect((await readdir(base)).sort()).toEqual(['evil-target', 'root']);
  expect(await readFile(join(base, 'evil-target'), 'utf8')).toBe('outside');
});

test('an absolute symlink among the parents is followed inside the root (chroot semantics), never to the host', async () => {
  const { base, rootfs } = await tempRoot();
  await mkdir(join(base, 'victim'));
  await writeFile(join(base, 'victim', 'file'), 'precious');
  await apply(rootfs, [
    { name: 'esc', type: 'symlink', linkname: join(base, 'victim') },
    { name: 'esc/pwned', content: 'x' },
    { name: 'esc/.wh.file' },
  ]);
  expect(await readdir(join(base, 'victim'))).toEqual(['file']);
  expect(await readFile(join(base, 'victim', 'file'), 'utf8')).toBe('precious');
  expect((await readdir(base)).sort()).toEqual(['root', 'victim']);
  expect(await readFile(join(rootfs.root, base, 'victim', 'pwned'), 'utf8')).toBe('x');
  // A hardlink to a path that does not exist in the root is a broken layer.
  await expect(apply(rootfs, [{ name: 'h', type: 'link', linkname: 'esc/file' }])).rejects.toThrow(
    /unsafe tar entry "h": its hardlink target .* does not exist/,
  );
});

test.each([
  ['a write', [{ name: 'up/up/planted', content: 'y' }]],
  ['a whiteout', [{ name: 'up/victim/.wh.file' }]],
  ['an opaque marker', [{ name: 'up/victim/.wh..wh..opq' }]],
  ['a hardlink target', [{ name: 'h', type: 'link', linkname: 'up/victim/file' }]],
  ['a directory', [{ name: 'up/newdir/', type: 'directory' }]],
] as [string, Entry[]][])('%s through a symlink climbing above the root is refused', async (_what, entries) => {
  const { base, rootfs } = await tempRoot();
  await mkdir(join(base, 'victim'));
  await writeFile(join(base, 'victim', 'file'), 'precious');
  const run = apply(rootfs, [{ name: 'up', type: 'symlink', linkname: '../../..' }, ...entries]);
  await expect(run).rejects.toThrow(/layer L1: unsafe tar entry .*the symlink \/up points outside the root/);
  expect((await readdir(base)).sort()).toEqual(['root', 'victim']);
  expect(await readdir(join(base, 'victim'))).toEqual(['file']);
});

test('absolute entry names and symlink loops are refused', async () => {
  const { rootfs } = await tempRoot();
  await expect(apply(rootfs, [{ name: '/etc/passwd', content: 'x' }])).rejects.toThrow(
    /unsafe tar entry "\/etc\/passwd": its name is absolute/,
  );
  const loop = apply(rootfs, [
    { name: 'a', type: 'symlink', linkname: 'b' },
    { name: 'b', type: 'symlink', linkname: 'a' },
    { name: 'a/x', content: 'x' },
  ]);
  await expect(loop).rejects.toThrow(/unsafe tar entry "a\/x": .*symlink loop/);
});

test('long names, long link targets, non-ASCII names and big ids (PAX) work; gzip is sniffed', async () => {
  const { rootfs } = await tempRoot();
  const longDir = `${'d'.repeat(120)}/${'e'.repeat(120)}`;
  const longTarget = `/${'t'.repeat(150)}`;
  const bytes = await tarOf([
    { name: `${longDir}/${'f'.repeat(110)}`, content: 'long' },
    { name: 'héllo-wörld.txt', content: 'utf8' },
    { name: 'l', type: 'symlink', linkname: longTarget },
    { name: 'big-ids', content: 'b', uid: 1, gid: 1, pax: { uid: '300000', gid: '400000' } },
  ]);
  await apply(rootfs, gzipSync(bytes));
  expect(await readFile(join(rootfs.root, longDir, 'f'.repeat(110)), 'utf8')).toBe('long');
  expect(await readFile(join(rootfs.root, 'héllo-wörld.txt'), 'utf8')).toBe('utf8');
  expect(await readlink(join(rootfs.root, 'l'))).toBe(longTarget);
  const big = await stat(join(rootfs.root, 'big-ids'));
  expect([big.uid, big.gid]).toEqual([300000, 400000]);
});

test('a corrupt or truncated layer is an IntegrityError naming the layer', async () => {
  const { rootfs } = await tempRoot();
  const good = await tarOf([{ name: 'a', content: 'x'.repeat(2000) }]);
  await expect(apply(rootfs, good.subarray(0, 1000))).rejects.toThrow(/layer L1 is not a valid/);
  const gz = gzipSync(good);
  await expect(apply(rootfs, gz.subarray(0, gz.length - 30))).rejects.toBeInstanceOf(IntegrityError);
});

test('an aborted signal stops extraction with an AbortError', async () => {
  const { rootfs } = await tempRoot();
  const bytes = await tarOf([{ name: 'a', content: 'x' }]);
  const run = extractLayer(rootfs, Readable.from([bytes]), {
    layerName: 'L1',
    logger: silentLogger,
    signal: AbortSignal.abort(),
  });
  await expect(run).rejects.toMatchObject({ name: 'AbortError' });
});

test('a hardlink to a symlink cannot turn a cached directory into an escape', async () => {
  const { base, rootfs } = await tempRoot();
  await mkdir(join(base, 'victim'));
  await apply(rootfs, [
    { name: 'lnk', type: 'symlink', linkname: join(base, 'victim') },
    { name: 'D/.wh..wh..opq' }, // makes the extractor look up /D while it does not exist
    { name: 'D', type: 'link', linkname: 'lnk' }, // /D becomes a second name of the symlink
    { name: 'D/pwned', content: 'x' },
  ]);
  expect(await readdir(join(base, 'victim'))).toEqual([]);
  expect(await readFile(join(rootfs.root, base, 'victim', 'pwned'), 'utf8')).toBe('x');
});

test.each(['gnu', 'pax'])('reads layers written by GNU tar in %s format', async (format) => {
  const { base, rootfs } = await tempRoot();
  const src = join(base, 'src');
  const long = 'n'.repeat(90);
  await mkdir(join(src, 'dir', long), { recursive: true });
  await writeFile(join(src, 'dir', long, 'file'), 'content');
  await promisify(execFile)('ln', [join(src, 'dir', long, 'file'), join(src, 'hard')]);
  await promisify(execFile)('ln', ['-s', `dir/${long}/file`, join(src, 'soft')]);
  await promisify(execFile)('tar', [`--format=${format}`, '-cf', join(base, 'l.tar'), '-C', src, '.']);
  await apply(rootfs, await readFile(join(base, 'l.tar')));
  const file = await stat(join(rootfs.root, 'dir', long, 'file'));
  expect(await readFile(join(rootfs.root, 'hard'), 'utf8')).toBe('content');
  expect((await stat(join(rootfs.root, 'hard'))).ino).toBe(file.ino);
  expect(await readlink(join(rootfs.root, 'soft'))).toBe(`dir/${long}/file`);
});
