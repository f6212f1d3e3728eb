import { describe, expect, test } from 'vitest';
import type { Change } from '../rootfs/change.js';
import type { FileFacts } from '../rootfs/file-facts.js';
import { candidates, diffIndexes, type SnapshotMode } from './diff.js';
import type { FileIndex } from './file-index.js';

let nextIno = 100;
function f(over: Partial<FileFacts> = {}): FileFacts {
  return {
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 10,
    mtimeMs: 1000,
    ctimeMs: 1000,
    ino: nextIno++,
    nlink: 1,
    ...over,
  };
}
function d(over: Partial<FileFacts> = {}): FileFacts {
  return f({ type: 'dir', mode: 0o755, size: 4096, ...over });
}
const index = (entries: Record<string, FileFacts>): FileIndex => new Map(Object.entries(entries));

const etc = d({ ino: 1 });
const passwd = f({ ino: 2 });
const app = d({ ino: 3 });
const appLib = d({ ino: 4 });
const appLibX = f({ ino: 5 });
const base = index({ '/etc': etc, '/etc/passwd': passwd, '/app': app, '/app/lib': appLib, '/app/lib/x': appLibX });

const cases: [string, FileIndex, Change[]][] = [
  ['nothing changed', index({ ...Object.fromEntries(base) }), []],
  ['a new file', index({ ...Object.fromEntries(base), '/etc/hosts': f() }), [{ kind: 'upsert', path: '/etc/hosts' }]],
  [
    'a modified file (size, mtime)',
    index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, size: 11, mtimeMs: 2000 } }),
    [{ kind: 'upsert', path: '/etc/passwd' }],
  ],
  [
    'a file rewritten in place (ctime only)',
    index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, ctimeMs: 1500 } }),
    [{ kind: 'upsert', path: '/etc/passwd' }],
  ],
  [
    'a chmod only',
    index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, mode: 0o4755 } }),
    [{ kind: 'upsert', path: '/etc/passwd' }],
  ],
  [
    'a chown only',
    index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, gid: 42 } }),
    [{ kind: 'upsert', path: '/etc/passwd' }],
  ],
  [
    'a file whose mtime alone changed (touch -d, the same bytes written again)',
    index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, mtimeMs: 500, ctimeMs: 1500 } }),
    [{ kind: 'upsert', path: '/etc/passwd' }],
  ],
  [
    'a directory whose mtime alone changed (touch, an entry made and removed in it)',
    index({ ...Object.fromEntries(base), '/etc': { ...etc, mtimeMs: 9999, ctimeMs: 9999, size: 8192 } }),
    [{ kind: 'upsert', path: '/etc' }],
  ],
  [
    'a directory whose mtime moved with a new entry: the entry (its parent goes in the layer anyway)',
    index({ ...Object.fromEntries(base), '/app': { ...app, mtimeMs: 9999 }, '/app/new': f() }),
    [{ kind: 'upsert', path: '/app/new' }],
  ],
  [
    'a directory whose mtime moved with a change deeper down',
    index({ ...Object.fromEntries(base), '/app': { ...app, mtimeMs: 9999 }, '/app/lib/x': { ...appLibX, size: 1 } }),
    [{ kind: 'upsert', path: '/app/lib/x' }],
  ],
  [
    'a chmod of a directory',
    index({ ...Object.fromEntries(base), '/etc': { ...etc, mode: 0o700 } }),
    [{ kind: 'upsert', path: '/etc' }],
  ],
  [
    'a deleted file',
    index({ '/etc': etc, '/app': app, '/app/lib': appLib, '/app/lib/x': appLibX }),
    [{ kind: 'whiteout', path: '/etc/passwd' }],
  ],
  [
    'a deleted directory tree: one whiteout for the top',
    index({ '/etc': etc, '/etc/passwd': passwd }),
    [{ kind: 'whiteout', path: '/app' }],
  ],
  [
    'a replaced directory: opaque and all its current contents',
    index({ '/etc': etc, '/etc/passwd': passwd, '/app': d({ ino: 50 }), '/app/lib': d({ ino: 51 }), '/app/new': f() }),
    [
      { kind: 'opaque', path: '/app' },
      { kind: 'upsert', path: '/app/lib' },
      { kind: 'upsert', path: '/app/new' },
    ],
  ],
  [
    'a directory replaced by a file: the file, no whiteouts for the old children',
    index({ '/etc': etc, '/etc/passwd': passwd, '/app': f({ ino: 60 }) }),
    [{ kind: 'upsert', path: '/app' }],
  ],
  [
    'a file replaced by a directory',
    index({
      '/etc': etc,
      '/etc/passwd': d({ ino: 61 }),
      '/etc/passwd/x': f(),
      '/app': app,
      '/app/lib': appLib,
      '/app/lib/x': appLibX,
    }),
    [
      { kind: 'upsert', path: '/etc/passwd' },
      { kind: 'upsert', path: '/etc/passwd/x' },
    ],
  ],
  [
    'a symlink retargeted',
    index({ ...Object.fromEntries(base), '/l': f({ type: 'symlink', linkTarget: '/b', ino: 70 }) }),
    [{ kind: 'upsert', path: '/l' }],
  ],
];

test.each(cases)('%s', (_name, after, expected) => {
  expect(diffIndexes(base, after)).toEqual(expected);
});

test('a directory Kiln made and removed a mount point in: its mtime alone is no change', () => {
  const after = index({
    ...Object.fromEntries(base),
    '/etc': { ...etc, mtimeMs: 9999 },
    '/app': { ...app, mtimeMs: 9 },
  });
  expect(diffIndexes(base, after, { kilnTouched: new Set(['/etc']) })).toEqual([{ kind: 'upsert', path: '/app' }]);
  // A chmod of it is still the step's.
  const chmod = index({ ...Object.fromEntries(base), '/etc': { ...etc, mtimeMs: 9999, mode: 0o700 } });
  expect(diffIndexes(base, chmod, { kilnTouched: new Set(['/etc']) })).toEqual([{ kind: 'upsert', path: '/etc' }]);
});

test('link target changes are detected even with equal size and times', () => {
  const l = f({ type: 'symlink', linkTarget: '/aa', size: 3, ino: 80 });
  const before = index({ '/l': l });
  expect(diffIndexes(before, index({ '/l': { ...l, linkTarget: '/bb' } }))).toEqual([{ kind: 'upsert', path: '/l' }]);
});

test('changes come sorted by path, whiteouts among upserts', () => {
  const after = index({
    '/etc': etc,
    '/app': app,
    '/app/lib': appLib,
    '/app/lib/x': appLibX,
    '/zz': f(),
    '/app/a': f(),
    '/etc/passwd-': f(),
  });
  expect(diffIndexes(base, after).map((c) => `${c.kind} ${c.path}`)).toEqual([
    'upsert /app/a',
    'whiteout /etc/passwd',
    'upsert /etc/passwd-',
    'upsert /zz',
  ]);
});

describe('--snapshot-mode', () => {
  const x = f({ ino: 90, size: 5, mtimeMs: 1000, ctimeMs: 1000 });
  const was = index({ '/x': x, '/d': d({ ino: 91 }) });
  const after = (over: Partial<FileFacts>, dir: Partial<FileFacts> = {}): FileIndex =>
    index({ '/x': { ...x, ...over }, '/d': { ...d({ ino: 91 }), ...dir } });
  // [what happened, facts after, changed in full, redo, time]
  const table: [string, Partial<FileFacts>, boolean, boolean, boolean][] = [
    ['touch (mtime and ctime)', { mtimeMs: 2000, ctimeMs: 2000 }, true, true, true],
    ['chmod (mode and ctime)', { mode: 0o600, ctimeMs: 2000 }, true, true, false],
    ['chown (owner and ctime)', { uid: 7, ctimeMs: 2000 }, true, true, false],
    ['setcap or same-size rewrite keeping mtime (ctime only)', { ctimeMs: 2000 }, true, false, false],
    ['replaced by rename, same size and mtime (inode)', { ino: 99, ctimeMs: 2000 }, true, false, false],
    ['grown, mtime kept (size)', { size: 6, ctimeMs: 2000 }, true, true, false],
  ];
  test.each(table)('%s: full %s, redo %s, time %s', (_what, over, full, redo, time) => {
    const changed = (mode: SnapshotMode): boolean =>
      diffIndexes(was, after(over), { mode }).some((c) => c.path === '/x');
    expect([changed('full'), changed('redo'), changed('time')]).toEqual([full, redo, time]);
  });

  test('full mode: a candidate whose content identity is unchanged is left out; others are kept', () => {
    const relinked = after({ ino: 99, ctimeMs: 2000 });
    expect(candidates(was, relinked, 'full')).toEqual(['/x']);
    expect(candidates(was, relinked, 'redo')).toEqual([]);
    expect(diffIndexes(was, relinked, { mode: 'full', unchanged: new Set(['/x']) })).toEqual([]);
    // A chmod or a moved mtime is never a candidate: it changed whatever the content.
    expect(candidates(was, after({ mode: 0o600 }), 'full')).toEqual([]);
    const touched = after({ mtimeMs: 2000, ctimeMs: 2000 });
    expect(candidates(was, touched, 'full')).toEqual([]);
    expect(diffIndexes(was, touched, { mode: 'full', unchanged: new Set(['/x']) })).toEqual([
      { kind: 'upsert', path: '/x' },
    ]);
  });

  test('time mode does not see a directory chmod; the others do', () => {
    const chmodDir = after({}, { mode: 0o700 });
    expect(diffIndexes(was, chmodDir, { mode: 'time' })).toEqual([]);
    expect(diffIndexes(was, chmodDir, { mode: 'redo' })).toEqual([{ kind: 'upsert', path: '/d' }]);
  });

  test('every mode sees a directory whose mtime alone moved', () => {
    for (const mode of ['full', 'redo', 'time'] as const)
      expect(diffIndexes(was, after({}, { mtimeMs: 5 }), { mode })).toEqual([{ kind: 'upsert', path: '/d' }]);
  });

  test('every mode: new and deleted paths, type changes, replaced directories', () => {
    const next = index({ '/x': d({ ino: 92 }), '/d': d({ ino: 93 }), '/new': f() });
    for (const mode of ['full', 'redo', 'time'] as const) {
      expect(diffIndexes(index({ ...Object.fromEntries(was), '/gone': f() }), next, { mode })).toEqual([
        { kind: 'opaque', path: '/d' },
        { kind: 'whiteout', path: '/gone' },
        { kind: 'upsert', path: '/new' },
        { kind: 'upsert', path: '/x' },
      ]);
    }
  });
});
