import { execFile } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { copyIntoRootfs, type SpecialMaker } from './copy-in.js';
import { Rootfs } from './rootfs.js';

const run = promisify(execFile);
let base: string;
let src: string;
let rootfs: Rootfs;

/** mknod(1), as exec/mknod.ts runs it. */
const mknod: SpecialMaker = async (host, kind, dev) => {
  await run('mknod', [
    '-m',
    '0600',
    host,
    { fifo: 'p', char: 'c', block: 'b' }[kind],
    ...(kind === 'fifo' ? [] : [String(dev.major), String(dev.minor)]),
  ]);
};

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-copy-in-'));
  src = join(base, 'src');
  rootfs = new Rootfs(join(base, 'root'));
  await mkdir(join(src, 'd'), { recursive: true });
  await mkdir(rootfs.root);
  await writeFile(join(src, 'd', 'file'), 'data');
  await run('mkfifo', ['-m', '0640', join(src, 'd', 'fifo')]);
  await chown(join(src, 'd', 'fifo'), 1000, 1001);
  await run('mknod', ['-m', '0620', join(src, 'd', 'zero'), 'c', '1', '5']);
  await run('mknod', [join(src, 'd', 'big'), 'b', '259', '300000']); // a minor above 255: the high bits of dev_t
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Type, mode, owner (and device numbers) of a copied path. */
async function facts(p: string): Promise<string> {
  const st = await lstat(join(rootfs.root, p));
  const type = st.isFIFO()
    ? 'fifo'
    : st.isCharacterDevice()
      ? 'char'
      : st.isBlockDevice()
        ? 'block'
        : st.isFile()
          ? 'file'
          : 'other';
  return `${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${type === 'char' || type === 'block' ? ` rdev=${st.rdev}` : ''}`;
}

test('with a special-file maker, FIFOs and devices are copied as what they are, metadata kept', async () => {
  const srcBig = (await lstat(join(src, 'd', 'big'))).rdev;
  await copyIntoRootfs(rootfs, join(src, 'd'), '/out', { special: mknod });
  expect(await facts('/out/fifo')).toBe('fifo 640 1000:1001');
  expect(await facts('/out/zero')).toBe(`char 620 0:0 rdev=${(await lstat(join(src, 'd', 'zero'))).rdev}`);
  expect(await facts('/out/big')).toMatch(new RegExp(`^block \\d+ 0:0 rdev=${srcBig}$`));
  expect(await facts('/out/file')).toBe('file 644 0:0');
  // A single special file as the source, with --chown.
  await copyIntoRootfs(rootfs, join(src, 'd', 'fifo'), '/p', { special: mknod, owner: { uid: 7, gid: 8 } });
  expect(await facts('/p')).toBe('fifo 640 7:8');
});

test('without one (the build context), FIFOs and devices are skipped, never opened', async () => {
  await copyIntoRootfs(rootfs, join(src, 'd'), '/out', {});
  expect((await readdir(join(rootfs.root, 'out'))).sort()).toEqual(['file']);
  const written = await copyIntoRootfs(rootfs, join(src, 'd', 'fifo'), '/p', {});
  expect(written).toEqual([]);
  expect(await readdir(rootfs.root)).toEqual(['out']);
}, 5_000);

test('a maker that may not create devices leaves the entry out', async () => {
  await chmod(join(src, 'd'), 0o755);
  const denied: SpecialMaker = (host, kind, dev) =>
    kind === 'fifo' ? mknod(host, kind, dev) : Promise.resolve('not-permitted');
  const written = await copyIntoRootfs(rootfs, join(src, 'd'), '/out', { special: denied });
  expect((await readdir(join(rootfs.root, 'out'))).sort()).toEqual(['fifo', 'file']);
  expect(written.sort()).toEqual(['/out', '/out/fifo', '/out/file']);
});

test('a directory source’s new destination is 0755 and root’s (BuildKit MkdirAll); its entries keep their modes', async () => {
  const tree = join(base, 'tree');
  await mkdir(join(tree, 'sub'), { recursive: true });
  await writeFile(join(tree, 'sub', 'f'), 'f');
  await chmod(join(tree, 'sub'), 0o750);
  await chown(tree, 1000, 1000);
  for (const mode of [0o700, 0o775]) {
    await chmod(tree, mode);
    const old = new Date(978_307_200_000);
    await utimes(tree, old, old);
    const dest = `/new${mode.toString(8)}/x`;
    await copyIntoRootfs(rootfs, tree, dest, {});
    expect(await facts(dest)).toBe('other 755 0:0');
    expect(await facts(`/new${mode.toString(8)}`)).toBe('other 755 0:0'); // a parent made
    expect(await facts(`${dest}/sub`)).toBe('other 750 0:0'); // entries below keep their source's metadata
    // The destination takes the source's mtime once its entries are written (fsutil copyFileTimestamp).
    expect((await lstat(join(rootfs.root, dest))).mtimeMs).toBe(old.getTime());
  }
  // --chown and an octal --chmod are the made destination's; an existing one keeps its mode and owner.
  await copyIntoRootfs(rootfs, tree, '/owned', { owner: { uid: 7, gid: 8 }, newDirMode: 0o750 });
  expect(await facts('/owned')).toBe('other 750 7:8');
  await mkdir(join(rootfs.root, 'exists'), { mode: 0o700 });
  await chmod(join(rootfs.root, 'exists'), 0o700);
  await copyIntoRootfs(rootfs, tree, '/exists', { owner: { uid: 7, gid: 8 } });
  expect(await facts('/exists')).toBe('other 700 0:0');
  expect(await facts('/exists/sub')).toBe('other 750 7:8');
});
