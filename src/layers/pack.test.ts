import { execFile } from 'node:child_process';
import {
  chmod,
  chown,
  lchown,
  link,
  lutimes,
  mkdir,
  mkdtemp,
  rm,
  symlink,
  truncate,
  utimes,
  writeFile as write,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import tar, { type Header } from 'tar-stream';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { FileFacts } from '../rootfs/file-facts.js';
import { indexRootfs } from '../snapshot/file-index.js';
import { changesForPaths } from '../../test/support/changes-for-paths.js';
import { extractLayer } from './extract.js';
import { packChanges } from './pack.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempRoot(): Promise<Rootfs> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-pack-'));
  dirs.push(dir);
  return new Rootfs(dir);
}
async function bytesOf(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
async function headersOf(tarBytes: Buffer): Promise<(Header & { pax?: unknown })[]> {
  const out: Header[] = [];
  const ex = tar.extract();
  ex.end(tarBytes);
  for await (const e of ex) {
    out.push(e.header);
    e.resume();
  }
  return out;
}

const T = (s: number): Date => new Date(s * 1000);
const LONG = `${'long-directory-name-'.repeat(6)}/${'x'.repeat(120)}`;

/** A small image filesystem exercising what layers must preserve. */
async function populate(r: Rootfs): Promise<void> {
  const p = (x: string): string => join(r.root, x);
  for (const d of ['bin', 'tmp', 'home/u', 'usr/bin', 'usr/lib', 'etc', 'run', LONG.slice(0, LONG.indexOf('/'))])
    await mkdir(p(d), { recursive: true });
  await write(p('bin/su'), 'su binary');
  await chmod(p('bin/su'), 0o4755);
  await write(p('bin/sg'), 'sg');
  await chown(p('bin/sg'), 0, 50);
  await chmod(p('bin/sg'), 0o2755);
  await chmod(p('tmp'), 0o1777);
  await write(p('home/u/.profile'), 'export A=1\n');
  await chown(p('home/u/.profile'), 1000, 1000);
  await chmod(p('home/u/.profile'), 0o600);
  await chown(p('home/u'), 1000, 1000);
  await chmod(p('home/u'), 0o700);
  await write(p('usr/bin/ln1'), 'shared inode');
  await link(p('usr/bin/ln1'), p('usr/lib/ln2'));
  await symlink('../bin/su', p('etc/alt'));
  await lchown(p('etc/alt'), 5, 6);
  await write(p('etc/big-ids'), 'b');
  await chown(p('etc/big-ids'), 300000, 400000);
  await write(p('etc/shadow'), 'secret');
  await chmod(p('etc/shadow'), 0o000);
  await write(p('etc/empty'), '');
  await write(p('etc/naïve-ünïcode'), 'u');
  await write(p(LONG), 'deep');
  await run('mkfifo', [p('run/fifo')]);
  for (const f of [
    'bin/su',
    'bin/sg',
    'home/u/.profile',
    'usr/bin/ln1',
    'etc/big-ids',
    'etc/shadow',
    'etc/empty',
    'etc/naïve-ünïcode',
    LONG,
    'run/fifo',
  ]) {
    await utimes(p(f), T(1_500_000_000), T(1_500_000_000));
  }
  await lutimes(p('etc/alt'), T(1_400_000_000), T(1_400_000_000));
  for (const d of [
    'bin',
    'tmp',
    'home/u',
    'home',
    'usr/bin',
    'usr/lib',
    'usr',
    'etc',
    'run',
    LONG.slice(0, LONG.indexOf('/')),
  ]) {
    await utimes(p(d), T(1_300_000_000), T(1_300_000_000));
  }
}

/** What a layer round trip must keep: everything but inode numbers, ctime and sub-second mtimes. */
function comparable(index: Map<string, FileFacts>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, f] of index) {
    out[path] = {
      type: f.type,
      mode: f.mode,
      uid: f.uid,
      gid: f.gid,
      size: f.type === 'dir' ? 0 : f.size,
      mtime: Math.floor(f.mtimeMs / 1000),
      nlink: f.type === 'dir' ? 0 : f.nlink,
      linkTarget: f.linkTarget,
    };
  }
  return out;
}

test('pack → extract round trip keeps types, modes, owners, links, mtimes and contents', async () => {
  const src = await tempRoot();
  await populate(src);
  const changes = await changesForPaths(src, ['/']);
  const layer = await bytesOf(packChanges(src, changes, {}));
  const dst = await tempRoot();
  await extractLayer(dst, Readable.from([layer]), {
    layerName: 'round-trip',
    logger: silentLogger,
    mknod: async (host) => {
      await run('mkfifo', [host]);
    },
  });
  const [a, b] = [await indexRootfs(src, {}), await indexRootfs(dst, {})];
  expect(comparable(b)).toEqual(comparable(a));
  expect(b.get('/usr/lib/ln2')?.ino).toBe(b.get('/usr/bin/ln1')?.ino);
  expect(b.get('/bin/su')?.mode).toBe(0o4755);
  expect(b.get('/etc/shadow')?.mode).toBe(0);
});

test('the tar is sorted, relative, with dirs ending in /, relative hardlinks, empty uname/gname', async () => {
  const src = await tempRoot();
  await populate(src);
  const layer = await bytesOf(packChanges(src, await changesForPaths(src, ['/']), {}));
  const headers = await headersOf(layer);
  const names = headers.map((h) => h.name);
  expect(names.slice(0, 6)).toEqual(['bin/', 'bin/sg', 'bin/su', 'etc/', 'etc/alt', 'etc/big-ids']);
  expect(names.every((n) => !n.startsWith('/'))).toBe(true);
  for (const h of headers) {
    expect([h.uname, h.gname]).toEqual(['', '']);
    if (h.type === 'directory') expect(h.name.endsWith('/')).toBe(true);
  }
  const ln2 = headers.find((h) => h.name === 'usr/lib/ln2');
  expect([ln2?.type, ln2?.linkname, ln2?.size]).toEqual(['link', 'usr/bin/ln1', 0]);
  expect(headers.find((h) => h.name === 'usr/bin/ln1')?.type).toBe('file');
  expect(headers.find((h) => h.name === 'bin/su')?.pax).toBeNull(); // plain ustar when it fits
  // GNU tar reads it too.
  const dir = await tempRoot();
  await write(join(dir.root, 'layer.tar'), layer);
  const { stdout } = await run('tar', ['--numeric-owner', '-tvf', join(dir.root, 'layer.tar')]);
  expect(stdout).toMatch(/-rwsr-xr-x 0\/0 +9 2017-07-14 \d\d:\d\d bin\/su/);
  expect(stdout).toMatch(/hrw-r--r-- 0\/0 +0 .* usr\/lib\/ln2 link to usr\/bin\/ln1/);
  expect(stdout).toContain(`${LONG}\n`);
  expect(stdout).toMatch(/300000\/400000 .* etc\/big-ids/);
});

test('parents of a deep change are added with their real metadata; whiteouts and opaque markers are placed', async () => {
  const r = await tempRoot();
  await mkdir(join(r.root, 'a/b'), { recursive: true });
  await chown(join(r.root, 'a'), 7, 8);
  await chmod(join(r.root, 'a'), 0o750);
  await write(join(r.root, 'a/b/c'), 'c');
  await mkdir(join(r.root, 'd'));
  await write(join(r.root, 'd/new'), 'n');
  await mkdir(join(r.root, 'e'));
  const layer = await bytesOf(
    packChanges(
      r,
      [
        { kind: 'upsert', path: '/a/b/c' },
        { kind: 'opaque', path: '/d' },
        { kind: 'upsert', path: '/d/new' },
        { kind: 'whiteout', path: '/e/gone' },
        { kind: 'whiteout', path: '/top' },
        { kind: 'upsert', path: '/vanished' },
      ],
      {},
    ),
  );
  const headers = await headersOf(layer);
  // '.' sorts before letters; '/vanished' does not exist and is left out.
  expect(headers.map((h) => h.name)).toEqual([
    '.wh.top',
    'a/',
    'a/b/',
    'a/b/c',
    'd/',
    'd/.wh..wh..opq',
    'd/new',
    'e/',
    'e/.wh.gone',
  ]);
  const a = headers.find((h) => h.name === 'a/');
  expect([a?.uid, a?.gid, (a?.mode ?? 0) & 0o7777]).toEqual([7, 8, 0o750]);
  // Applied over a lower layer, the markers do their job.
  const lower = await tempRoot();
  await mkdir(join(lower.root, 'd'));
  await write(join(lower.root, 'd/old'), 'o');
  await mkdir(join(lower.root, 'e'));
  await write(join(lower.root, 'e/gone'), 'g');
  await write(join(lower.root, 'e/stays'), 's');
  await write(join(lower.root, 'top'), 't');
  await extractLayer(lower, Readable.from([layer]), { layerName: 'upper', logger: silentLogger });
  expect([...(await indexRootfs(lower, {})).keys()]).toEqual([
    '/a',
    '/a/b',
    '/a/b/c',
    '/d',
    '/d/new',
    '/e',
    '/e/stays',
  ]);
});

test('packing is deterministic and clampMtime lowers newer mtimes only', async () => {
  const r = await tempRoot();
  await populate(r);
  await write(join(r.root, 'fresh'), 'new file, mtime now');
  const changes = await changesForPaths(r, ['/']);
  const clamp = T(1_450_000_000);
  const one = await bytesOf(packChanges(r, changes, { clampMtime: clamp }));
  const two = await bytesOf(packChanges(r, changes, { clampMtime: clamp }));
  expect(one.equals(two)).toBe(true);
  const headers = await headersOf(one);
  expect(headers.find((h) => h.name === 'fresh')?.mtime).toEqual(clamp);
  expect(headers.find((h) => h.name === 'etc/alt')?.mtime).toEqual(T(1_400_000_000));
  expect(headers.find((h) => h.name === 'bin/')?.mtime).toEqual(T(1_300_000_000));
});

test('file contents stream through; a file that shrinks while packing is a FilesystemError', async () => {
  const r = await tempRoot();
  await write(join(r.root, 'big'), '');
  await truncate(join(r.root, 'big'), 32 * 1024 * 1024); // sparse: cheap to make
  const out = packChanges(r, [{ kind: 'upsert', path: '/big' }], {});
  let total = 0;
  for await (const c of out) total += (c as Buffer).length;
  expect(total).toBe(512 + 32 * 1024 * 1024 + 1024);
  // Shrink it after the first chunk was produced.
  const shrinking = packChanges(r, [{ kind: 'upsert', path: '/big' }], {});
  let first = true;
  const read = (async () => {
    for await (const _c of shrinking) {
      if (first) {
        first = false;
        await truncate(join(r.root, 'big'), 10);
      }
    }
  })();
  await expect(read).rejects.toThrow(/changed while it was being packed/);
});

test('destroying the stream stops packing', async () => {
  const r = await tempRoot();
  await write(join(r.root, 'big'), '');
  await truncate(join(r.root, 'big'), 8 * 1024 * 1024);
  const out = packChanges(r, [{ kind: 'upsert', path: '/big' }], {});
  for await (const _c of out) break; // destroys `out`
  expect(out.destroyed).toBe(true);
});

test('an aborted signal errors the tar stream', async () => {
  const r = await tempRoot();
  await write(join(r.root, 'f'), 'x');
  const out = packChanges(r, [{ kind: 'upsert', path: '/f' }], { signal: AbortSignal.abort() });
  await expect(bytesOf(out)).rejects.toMatchObject({ name: 'AbortError' });
});
