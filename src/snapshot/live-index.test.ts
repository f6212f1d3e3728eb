import { expect, test } from 'vitest';
import type { FileFacts } from '../rootfs/file-facts.js';
import { LiveIndex } from './live-index.js';

const facts = (over: Partial<FileFacts>): FileFacts => ({
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 0,
  mtimeMs: 0,
  ctimeMs: 0,
  ino: 1,
  nlink: 1,
  ...over,
});

test.each<[string, FileFacts]>([
  [
    'a plain file',
    facts({
      mode: 0o4755,
      uid: 1000,
      gid: 100,
      size: 12,
      mtimeMs: 1_600_000_000_123.456,
      ctimeMs: 1_700_000_000_000.5,
      ino: 42,
    }),
  ],
  [
    'big ids, sizes and inode numbers',
    facts({ uid: 2 ** 31 - 1, gid: 2 ** 32 - 2, size: 2 ** 40 + 3, ino: 2 ** 50 + 1 }),
  ],
  ['a time before 1970', facts({ mtimeMs: -86_400_000.25 })],
  ['a directory with the sticky bit', facts({ type: 'dir', mode: 0o1777, nlink: 7 })],
  ['a symlink', facts({ type: 'symlink', mode: 0o777, linkTarget: '../x y/ü' })],
  ['a device', facts({ type: 'char', rdev: 0x103 })],
  ['a fifo', facts({ type: 'fifo' })],
])('the facts of %s come back exactly as they were set', (_name, f) => {
  const live = new LiveIndex();
  live.set('/p', f);
  expect(live.take()).toEqual(new Map([['/p', f]]));
});

test('set again overwrites; removal hides what was set before it only; hardlinks share new facts', () => {
  const live = new LiveIndex();
  for (let i = 0; i < 3000; i++) live.set(`/many/${i}`, facts({ ino: 10_000 + i })); // past the first growth
  live.set('/d/x', facts({ ino: 5, linkTarget: 'old' }));
  live.set('/d/x', facts({ ino: 6 }));
  live.set('/d/gone', facts({ ino: 7 }));
  live.set('/a', facts({ ino: 9, nlink: 2 }));
  live.set('/b', facts({ ino: 9, nlink: 2 }));
  live.removeTree('/d');
  live.set('/d/new', facts({ ino: 8 }));
  live.set('/c', facts({ ino: 9, nlink: 3, ctimeMs: 5 }));
  live.set('/s', facts({ type: 'symlink', linkTarget: 't' }));
  live.set('/s', facts({ ino: 11 }));
  const index = live.take();
  expect(index.get('/s')).toEqual(facts({ ino: 11 }));
  expect(index.get('/many/2999')?.ino).toBe(12_999);
  expect(index.has('/d/x')).toBe(false);
  expect(index.has('/d/gone')).toBe(false);
  expect(index.get('/d/new')?.ino).toBe(8);
  expect([index.get('/a')?.nlink, index.get('/b')?.nlink, index.get('/c')?.nlink]).toEqual([3, 3, 3]);
  expect(live.take().size).toBe(0);
});
