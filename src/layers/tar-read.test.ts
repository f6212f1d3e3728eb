import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, link, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import { encodeHeaderBlock } from './tar-block.js';
import { encodePaxRecords } from './tar-pax.js';
import { TarReader, type TarEntry } from './tar-read.js';
import { encodeHeader, END_OF_ARCHIVE, padding, type WriteHeader } from './tar-write.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-tar-'));
  dirs.push(d);
  return d;
}

/** Every entry of a tar with its data, the input delivered in awkward 7-byte chunks. */
async function readAll(bytes: Buffer, chunk = 7): Promise<(TarEntry & { data: string })[]> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  const reader = new TarReader(Readable.from(chunks));
  const out: (TarEntry & { data: string })[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) {
    const parts: Buffer[] = [];
    for await (const c of reader.body()) parts.push(c);
    out.push({ ...e, data: Buffer.concat(parts).toString() });
  }
  return out;
}

function tarOf(entries: [WriteHeader, string?][]): Buffer {
  return Buffer.concat([
    ...entries.flatMap(([h, data = '']) => [encodeHeader(h), Buffer.from(data), padding(Buffer.byteLength(data))]),
    END_OF_ARCHIVE,
  ]);
}

const file = (name: string, data: string, over: Partial<WriteHeader> = {}): [WriteHeader, string] => [
  {
    name,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: Buffer.byteLength(data),
    mtimeSeconds: 1_600_000_000,
    ...over,
  },
  data,
];

test.each(['gnu', 'posix', 'ustar', 'v7'])('reads what GNU tar writes in %s format', async (format) => {
  const d = await temp();
  const src = join(d, 'src');
  const long = `${'l'.repeat(60)}/${'m'.repeat(60)}`;
  await mkdir(join(src, 'dir', long), { recursive: true });
  await writeFile(join(src, 'dir', long, 'f'), 'content');
  await link(join(src, 'dir', long, 'f'), join(src, 'hard'));
  await symlink('dir/x', join(src, 'soft'));
  await run('mkfifo', [join(src, 'fifo')]);
  await chown(join(src, 'soft'), 7, 8).catch(() => undefined);
  // ustar and v7 cannot hold every name here: GNU tar says so (exit 2) and leaves those out.
  await run('tar', [
    `--format=${format}`,
    '--sort=name',
    '--numeric-owner',
    '-cf',
    join(d, 'l.tar'),
    '-C',
    src,
    'dir',
    'fifo',
    'hard',
    'soft',
  ]).catch((err: unknown) => {
    if (format === 'gnu' || format === 'posix') throw err;
  });
  const entries = await readAll(await readFile(join(d, 'l.tar')));
  const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e]));
  if (format !== 'v7')
    expect(byName.get(`dir/${long}/f`)).toMatchObject({ type: 'file', data: 'content', mode: 0o644 });
  expect(byName.get('dir')?.type).toBe('directory');
  expect(byName.get('soft')).toMatchObject({ type: 'symlink', linkname: 'dir/x', size: 0 });
  if (format === 'gnu' || format === 'posix')
    expect(byName.get('hard')).toMatchObject({ type: 'link', linkname: `dir/${long}/f` });
  if (format !== 'v7') expect(byName.get('fifo')?.type).toBe('fifo'); // v7 has no fifos
});

test('binary pax xattrs (security.capability) come through byte for byte', async () => {
  const d = await temp();
  await writeFile(join(d, 'ping'), 'binary');
  // cap_setuid (bit 7) makes a byte 0x80: UTF-8 decoding would corrupt it.
  await run('setcap', ['cap_setuid,cap_net_raw+ep', join(d, 'ping')]);
  const { stdout } = await run(
    'getfattr',
    ['-n', 'security.capability', '-e', 'hex', '--only-values', join(d, 'ping')],
    { encoding: 'buffer' },
  );
  await run('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-cf', join(d, 'l.tar'), '-C', d, 'ping']);
  const [entry] = await readAll(await readFile(join(d, 'l.tar')));
  const cap = entry?.xattrs.get('security.capability');
  expect(cap?.includes(0x80)).toBe(true);
  expect(cap?.equals(stdout)).toBe(true);
});

test('what Kiln writes, GNU tar and Kiln read back: long and non-ASCII names, big ids, xattrs', async () => {
  const d = await temp();
  const cap = Buffer.from('0100000280200000000000000000000000000000', 'hex');
  const deep = `${'a'.repeat(120)}/${'b'.repeat(90)}`;
  const tar = tarOf([
    [{ name: `${'p'.repeat(80)}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSeconds: 1 }],
    file(deep, 'deep'), // ustar prefix + name
    file(`${'c'.repeat(300)}`, 'pax path'),
    file('naïve.txt', 'utf8'),
    file('ids', 'x', { uid: 3_000_000, gid: 4_000_000 }),
    file('caps', 'c', {
      xattrs: new Map([
        ['security.capability', cap],
        ['user.note', Buffer.from('hi')],
      ]),
    }),
    [{ name: 'ln', type: 'link', linkname: deep, mode: 0o644, uid: 0, gid: 0, size: 0, mtimeSeconds: 1 }],
    [
      {
        name: 'dev',
        type: 'character-device',
        devmajor: 1,
        devminor: 3,
        mode: 0o666,
        uid: 0,
        gid: 0,
        size: 0,
        mtimeSeconds: 1,
      },
    ],
  ]);
  const back = await readAll(tar, 511);
  expect(back.map((e) => e.name)).toEqual([
    `${'p'.repeat(80)}/`,
    deep,
    'c'.repeat(300),
    'naïve.txt',
    'ids',
    'caps',
    'ln',
    'dev',
  ]);
  expect(back[1]?.data).toBe('deep');
  expect(back[4]).toMatchObject({ uid: 3_000_000, gid: 4_000_000 });
  expect(back[5]?.xattrs.get('security.capability')?.equals(cap)).toBe(true);
  expect(back[6]).toMatchObject({ type: 'link', linkname: deep });
  expect(back[7]).toMatchObject({ type: 'character-device', devmajor: 1, devminor: 3 });
  await writeFile(join(d, 'k.tar'), tar);
  const { stdout } = await run('tar', ['--numeric-owner', '-tvf', join(d, 'k.tar')]);
  expect(stdout).toContain(`${deep}\n`);
  expect(stdout).toMatch(/3000000\/4000000 .* ids\n/);
  expect(stdout).toContain('naïve.txt');
  await mkdir(join(d, 'x'));
  await run('tar', ['--xattrs', '--xattrs-include=*', '-xpf', join(d, 'k.tar'), '-C', join(d, 'x'), 'caps']);
  const { stdout: got } = await run(
    'getfattr',
    ['-n', 'security.capability', '-e', 'hex', '--only-values', join(d, 'x', 'caps')],
    { encoding: 'buffer' },
  );
  expect(got.equals(cap)).toBe(true);
});

/** A header block whose uid field is `uid` in GNU base-256 (0x80, then big-endian bytes). */
function base256Uid(uid: number): Buffer {
  const block = encodeHeaderBlock({
    name: 'big',
    typeflag: '0',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 3,
    mtimeSeconds: 0,
  });
  block.fill(0, 108, 116);
  block[108] = 0x80;
  block.writeUIntBE(uid, 110, 6);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

test('base-256 numbers (GNU) and header-only types carrying a size are read as Go does', async () => {
  const block = base256Uid(2_147_483_647);
  const dir = encodeHeaderBlock({ name: 'd/', typeflag: '5', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSeconds: 0 });
  const entries = await readAll(Buffer.concat([block, Buffer.from('abc'), padding(3), dir, END_OF_ARCHIVE]));
  expect(entries.map((e) => [e.name, e.uid, e.data])).toEqual([
    ['big', 2_147_483_647, 'abc'],
    ['d/', 0, ''],
  ]);
});

/** A file entry `a` whose owner is set by pax records. */
function paxOwned(records: [string, string][]): Buffer {
  const rec = encodePaxRecords(records);
  return Buffer.concat([
    encodeHeaderBlock({ name: 'P', typeflag: 'x', mode: 0, uid: 0, gid: 0, size: rec.length, mtimeSeconds: 0 }),
    rec,
    padding(rec.length),
    tarOf([file('a', 'x')]),
  ]);
}

/** uids and gids above 2^31−1 wrap in the kernel (2^32 is root): every way of writing one is refused. */
function ownerCases(): [string, () => Buffer, RegExp][] {
  return [
    [
      'a base-256 uid of 2^31',
      () => Buffer.concat([base256Uid(2 ** 31), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]),
      /"big": owner 2147483648:0 out of range \(0 to 2147483647\)/,
    ],
    [
      'a base-256 uid of 2^32',
      () => Buffer.concat([base256Uid(2 ** 32), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]),
      /owner 4294967296:0 out of range/,
    ],
    [
      'a pax uid of 2^31',
      () => paxOwned([['uid', '2147483648']]),
      /"a": owner 2147483648:0 out of range \(0 to 2147483647\) in pax records/,
    ],
    ['a pax uid of 2^32', () => paxOwned([['uid', '4294967296']]), /owner 4294967296:0 out of range/],
    ['a pax gid of 2^32', () => paxOwned([['gid', '4294967296']]), /owner 0:4294967296 out of range/],
    ['a pax uid beyond 2^53', () => paxOwned([['uid', '99999999999999999999']]), /not a valid number/],
  ];
}

test.each([
  [
    'a bad checksum',
    (): Buffer => {
      const b = tarOf([file('a', 'x')]);
      b[10] = 0x41;
      return b;
    },
    /checksum/,
  ],
  [
    'a pax header over 1 MiB',
    (): Buffer =>
      Buffer.concat([
        encodeHeaderBlock({
          name: 'PaxHeaders.0/a',
          typeflag: 'x',
          mode: 0,
          uid: 0,
          gid: 0,
          size: 2 << 20,
          mtimeSeconds: 0,
        }),
        Buffer.alloc(1024),
      ]),
    /larger than/,
  ],
  [
    'a malformed pax record',
    (): Buffer => {
      const rec = Buffer.from('99 path=x\n');
      return Buffer.concat([
        encodeHeaderBlock({ name: 'P', typeflag: 'x', mode: 0, uid: 0, gid: 0, size: rec.length, mtimeSeconds: 0 }),
        rec,
        padding(rec.length),
        tarOf([file('a', 'x')]),
      ]);
    },
    /malformed pax/,
  ],
  ['truncated data', (): Buffer => tarOf([file('a', 'x'.repeat(2000))]).subarray(0, 1000), /unexpected end of data/],
  [
    'an owner beyond 32 bits',
    (): Buffer => Buffer.concat([base256Uid(2 ** 33), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]),
    /out of range/,
  ],
  ...ownerCases(),
  [
    'a GNU sparse file',
    (): Buffer =>
      Buffer.concat([
        encodeHeaderBlock({ name: 's', typeflag: 'S', mode: 0, uid: 0, gid: 0, size: 0, mtimeSeconds: 0 }),
        END_OF_ARCHIVE,
      ]),
    /sparse/,
  ],
  [
    'a non-numeric size',
    (): Buffer => {
      const b = encodeHeaderBlock({ name: 'a', typeflag: '0', mode: 0, uid: 0, gid: 0, size: 0, mtimeSeconds: 0 });
      b.write('zz', 124, 'latin1');
      b.fill(0x20, 148, 156);
      let s = 0;
      for (const x of b) s += x;
      b.write(`${s.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
      return b;
    },
    /size field/,
  ],
  [
    'an archive ending after a pax header',
    (): Buffer => {
      const rec = encodePaxRecords([['path', 'x']]);
      return Buffer.concat([
        encodeHeaderBlock({ name: 'P', typeflag: 'x', mode: 0, uid: 0, gid: 0, size: rec.length, mtimeSeconds: 0 }),
        rec,
        padding(rec.length),
      ]);
    },
    /ends after an extended header/,
  ],
] as [string, () => Buffer, RegExp][])('refuses %s', async (_what, make, message) => {
  await expect(readAll(make())).rejects.toThrow(message);
});

test.each([
  [
    'pax',
    (): Buffer =>
      paxOwned([
        ['uid', '2147483647'],
        ['gid', '2147483647'],
      ]),
  ],
  [
    'base-256',
    (): Buffer => Buffer.concat([base256Uid(2_147_483_647), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]),
  ],
])('an owner of 2^31−1 (%s) is still read', async (_how, make) => {
  const [entry] = await readAll(make());
  expect(entry?.uid).toBe(2_147_483_647);
});
