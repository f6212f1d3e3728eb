/**
 * The hostile-layer corpus (issue 6): tars that try to make an extractor write, link or delete
 * outside the root, or that are malformed in ways a careless reader trusts. Written block by
 * block here, independent of Kiln's own tar code, so that no check can be weakened by the
 * code under test. Each case aims at `sentinel` (a directory outside the build with a file
 * `victim`) or at the directory two levels above the rootfs (the `--kaniko-dir`).
 */
import { createHash } from 'node:crypto';

/** One raw entry: a ustar header (type flag as in the spec) and its data. */
interface Raw {
  name: string;
  type?: string;
  linkname?: string;
  data?: string | Buffer;
  /** Overrides the size field (data stays as given): for lies about sizes. */
  size?: number;
  mode?: number;
  devmajor?: number;
  devminor?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: Raw, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(e.name, 0, 100, 'utf8');
  b.write(octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  b.write(octal(0, 8), 108, 'latin1');
  b.write(octal(0, 8), 116, 'latin1');
  b.write(octal(size, 12), 124, 'latin1');
  b.write(octal(1_600_000_000, 12), 136, 'latin1');
  b.write(e.type ?? '0', 156, 'latin1');
  b.write(e.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 'latin1');
  b.write(octal(e.devmajor ?? 0, 8), 329, 'latin1');
  b.write(octal(e.devminor ?? 0, 8), 337, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

/** A tar of raw entries, ended by two zero blocks unless `end` is false. */
export function rawTar(entries: Raw[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    parts.push(header(e, e.size ?? data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A pax record "LEN key=value\n". */
function pax(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

export interface HostileCase {
  name: string;
  tar: Buffer;
}

/** The corpus; `sentinel` is an absolute host path. */
export function hostileCorpus(sentinel: string): HostileCase[] {
  // Enough `..` to reach the host root from any rootfs, then down into the sentinel.
  const climb = `${'../'.repeat(16)}${sentinel.slice(1)}`;
  const escape: Raw = { name: 'esc', type: '2', linkname: climb };
  const cases: [string, Raw[] | Buffer][] = [
    ['a ../ name', [{ name: '../../pwned', data: 'x' }]],
    ['a name that climbs after descending', [{ name: `a/${climb}/pwned`, data: 'x' }]],
    ['an absolute name', [{ name: `${sentinel}/pwned`, data: 'x' }]],
    ['a write through a symlinked parent escaping the root', [escape, { name: 'esc/pwned', data: 'x' }]],
    ['a hardlink to a file outside', [{ name: 'h', type: '1', linkname: `${climb}/victim` }]],
    ['a hardlink through an escaping symlink', [escape, { name: 'h', type: '1', linkname: 'esc/victim' }]],
    ['a whiteout through an escaping symlink', [escape, { name: 'esc/.wh.victim' }]],
    ['an opaque whiteout through an escaping symlink', [escape, { name: 'esc/.wh..wh..opq' }]],
    ['a .wh. naming ..', [{ name: 'a/.wh...' }]],
    ['a .wh. entry outside the root', [{ name: `${climb}/.wh.victim` }]],
    [
      'a chain of symlinks ending outside',
      [
        { name: 'c1', type: '2', linkname: 'c2' },
        { name: 'c2', type: '2', linkname: '/c3' },
        { name: 'c3', type: '2', linkname: climb },
        { name: 'c1/pwned', data: 'x' },
      ],
    ],
    [
      'a symlink loop',
      [
        { name: 'l1', type: '2', linkname: 'l2' },
        { name: 'l2', type: '2', linkname: 'l1' },
        { name: 'l1/pwned', data: 'x' },
      ],
    ],
    ['a device node through an escaping symlink', [escape, { name: 'esc/null', type: '3', devmajor: 1, devminor: 3 }]],
    [
      'a directory replaced by an escaping symlink, then written through',
      [
        { name: 'd/', type: '5' },
        { name: 'd/ok', data: 'fine' },
        { name: 'd', type: '2', linkname: climb },
        { name: 'd/pwned', data: 'x' },
      ],
    ],
    [
      'a hardlink to an escaping symlink, then written through',
      [escape, { name: 'D', type: '1', linkname: 'esc' }, { name: 'D/pwned', data: 'x' }],
    ],
    [
      'a pax path that climbs',
      rawTar([
        { name: 'PaxHeaders/benign', type: 'x', data: pax('path', '../../pwned') },
        { name: 'benign', data: 'x' },
      ]),
    ],
    [
      'a GNU long name that climbs',
      rawTar([
        { name: '././@LongLink', type: 'L', data: `${climb}/pwned\0` },
        { name: 'short', data: 'x' },
      ]),
    ],
    [
      'an oversized pax header',
      rawTar([
        { name: 'PaxHeaders/big', type: 'x', data: Buffer.alloc(2 << 20, 0x41) },
        { name: 'big', data: 'x' },
      ]),
    ],
    [
      'a header with a bad checksum',
      (() => {
        const t = rawTar([{ name: 'ok', data: 'x' }]);
        t[0] = 0x6e;
        return t;
      })(),
    ],
    ['a size larger than the data', rawTar([{ name: 'short', data: 'x', size: 4096 }], false)],
  ];
  return cases.map(([name, entries]) => ({ name, tar: Buffer.isBuffer(entries) ? entries : rawTar(entries) }));
}

/** A fingerprint of a directory tree (paths, types, modes, sizes, mtimes, contents) to compare before and after. */
export async function treeFingerprint(dir: string): Promise<string> {
  const { lstat, readdir, readFile, readlink } = await import('node:fs/promises');
  const lines: string[] = [];
  const walk = async (p: string, rel: string): Promise<void> => {
    const st = await lstat(p);
    let extra = '';
    if (st.isFile())
      extra = createHash('sha256')
        .update(await readFile(p))
        .digest('hex');
    else if (st.isSymbolicLink()) extra = await readlink(p);
    lines.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.nlink} ${extra}`);
    if (st.isDirectory()) for (const n of (await readdir(p)).sort()) await walk(`${p}/${n}`, `${rel}/${n}`);
  };
  await walk(dir, '.');
  return lines.join('\n');
}
