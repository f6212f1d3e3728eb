/**
 * Names that are not valid UTF-8 (issue 11, finding 10) through Kiln's tar reader and writer,
 * extraction, snapshot and packing: the exact bytes in, the exact bytes out.
 */
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '../log.js';
import { bytesOfName, nameFromBytes } from '../oci/file-names.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { diffIndexes } from '../snapshot/diff.js';
import { indexRootfs } from '../snapshot/file-index.js';
import { extractLayer } from './extract.js';
import { packChanges } from './pack.js';
import { encodeHeaderBlock } from './tar-block.js';
import { TarReader, type TarEntry } from './tar-read.js';
import { encodeHeader, END_OF_ARCHIVE, padding, type WriteHeader } from './tar-write.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** The name of the bytes of `s` read as latin1 (`'bad\xff'` is 62 61 64 ff). */
const name = (s: string): string => nameFromBytes(Buffer.from(s, 'latin1'));
const hostPath = (root: string, s: string): Buffer =>
  Buffer.concat([Buffer.from(`${root}/`), Buffer.from(s, 'latin1')]);

async function entriesOf(tar: Buffer): Promise<TarEntry[]> {
  const reader = new TarReader(Readable.from([tar]));
  const out: TarEntry[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) out.push(e);
  return out;
}

function tarOf(headers: (WriteHeader & { data?: string })[]): Buffer {
  return Buffer.concat([
    ...headers.flatMap(({ data = '', ...h }) => [
      encodeHeader({ ...h, size: data.length }),
      Buffer.from(data),
      padding(data.length),
    ]),
    END_OF_ARCHIVE,
  ]);
}

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtimeSeconds: 1_600_000_000 };

test('the writer puts the exact bytes in pax path and linkpath records, with hdrcharset=BINARY', async () => {
  const tar = tarOf([
    { ...base, name: name('dir/bad\xffname'), type: 'file', data: 'A' },
    { ...base, name: name('l\xfe'), type: 'symlink', linkname: name('dir/bad\xffname') },
    { ...base, name: 'plain', type: 'symlink', linkname: name('t\xfd') },
  ]);
  expect(tar.includes(Buffer.from(' path=dir/bad\xffname\n', 'latin1'))).toBe(true);
  expect(tar.includes(Buffer.from(' linkpath=dir/bad\xffname\n', 'latin1'))).toBe(true);
  expect(tar.includes(Buffer.from(' hdrcharset=BINARY\n'))).toBe(true);
  expect(tar.includes(Buffer.from('\ufffd'))).toBe(false);
  const read = await entriesOf(tar);
  expect(read.map((e) => bytesOfName(e.name).toString('latin1'))).toEqual(['dir/bad\xffname', 'l\xfe', 'plain']);
  expect(read.map((e) => bytesOfName(e.linkname).toString('latin1'))).toEqual(['', 'dir/bad\xffname', 't\xfd']);
});

test('valid UTF-8 names get no hdrcharset record', () => {
  const tar = tarOf([{ ...base, name: 'caf\u00e9', type: 'file' }]);
  expect(tar.includes(Buffer.from('hdrcharset'))).toBe(false);
  expect(tar.includes(Buffer.from(' path=caf\u00e9\n'))).toBe(true);
});

test('the reader keeps raw bytes of ustar name, prefix and link fields and of GNU long names', async () => {
  const long = Buffer.concat([Buffer.from('long/'), Buffer.from('\xfc'.repeat(120), 'latin1'), Buffer.from('\0')]);
  const tar = Buffer.concat([
    // encodeHeaderBlock writes its text fields as latin1: one byte per character.
    encodeHeaderBlock({ ...base, name: 'caf\xe9', typeflag: '2', linkname: 't\xe8', prefix: 'pre\xff' }),
    encodeHeaderBlock({ ...base, name: '././@LongLink', typeflag: 'L', size: long.length }),
    long,
    padding(long.length),
    encodeHeaderBlock({ ...base, name: 'short', typeflag: '0' }),
    END_OF_ARCHIVE,
  ]);
  const [a, b] = await entriesOf(tar);
  expect(bytesOfName(a?.name ?? '').toString('latin1')).toBe('pre\xff/caf\xe9');
  expect(bytesOfName(a?.linkname ?? '').toString('latin1')).toBe('t\xe8');
  expect(bytesOfName(b?.name ?? '')).toEqual(long.subarray(0, long.length - 1));
});

test('a layer of such names is extracted, snapshotted and packed again byte for byte', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-names-'));
  dirs.push(root);
  const rootfs = new Rootfs(root);
  const layer = tarOf([
    { ...base, name: name('d\xfe/'), type: 'directory', mode: 0o755 },
    { ...base, name: name('d\xfe/bad\xffname'), type: 'file', data: 'A' },
    { ...base, name: `${name('d\xfe')}/bad\ufffdname`, type: 'file', data: 'twin' },
    { ...base, name: name('d\xfe/link\xfc'), type: 'symlink', linkname: name('bad\xffname') },
    { ...base, name: name('d\xfe/hard\xfb'), type: 'link', linkname: name('d\xfe/bad\xffname') },
    { ...base, name: name('gone\xfd'), type: 'file', data: 'C' },
  ]);
  await extractLayer(rootfs, Readable.from([layer]), { layerName: 'L1', logger: silentLogger });
  const listed = (await readdir(hostPath(root, 'd\xfe'), { encoding: 'buffer' }))
    .map((b) => b.toString('latin1'))
    .sort();
  expect(listed).toEqual(
    ['bad\xffname', Buffer.from('bad\ufffdname').toString('latin1'), 'hard\xfb', 'link\xfc'].sort(),
  );
  expect((await readFile(hostPath(root, 'd\xfe/bad\xffname'))).toString()).toBe('A');
  expect((await readlink(hostPath(root, 'd\xfe/link\xfc'), { encoding: 'buffer' })).toString('latin1')).toBe(
    'bad\xffname',
  );

  const before = await indexRootfs(rootfs, {});
  expect(before.has(name('/d\xfe/bad\xffname'))).toBe(true);
  await writeFile(hostPath(root, 'd\xfe/new\xfa'), 'N');
  await mkdir(hostPath(root, 'n\xf9'));
  await unlink(hostPath(root, 'gone\xfd'));
  const after = await indexRootfs(rootfs, {});
  const changes = diffIndexes(before, after);
  const chunks: Buffer[] = [];
  for await (const c of packChanges(rootfs, changes, {})) chunks.push(c as Buffer);
  const packed = await entriesOf(Buffer.concat(chunks));
  expect(packed.map((e) => bytesOfName(e.name).toString('latin1'))).toEqual([
    '.wh.gone\xfd',
    'd\xfe/',
    'd\xfe/new\xfa',
    'n\xf9/',
  ]);
});
