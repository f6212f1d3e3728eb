import { expect, test } from 'vitest';
import { diffIndexes, type Change } from './diff.js';
import type { FileFacts, FileIndex } from './file-index.js';

let nextIno = 100;
function f(over: Partial<FileFacts> = {}): FileFacts {
  return { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, mtimeMs: 1000, ctimeMs: 1000, ino: nextIno++, nlink: 1, ...over };
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
  ['a modified file (size, mtime)', index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, size: 11, mtimeMs: 2000 } }), [{ kind: 'upsert', path: '/etc/passwd' }]],
  ['a file rewritten in place (ctime only)', index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, ctimeMs: 1500 } }), [{ kind: 'upsert', path: '/etc/passwd' }]],
  ['a chmod only', index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, mode: 0o4755 } }), [{ kind: 'upsert', path: '/etc/passwd' }]],
  ['a chown only', index({ ...Object.fromEntries(base), '/etc/passwd': { ...passwd, gid: 42 } }), [{ kind: 'upsert', path: '/etc/passwd' }]],
  ['a directory whose mtime alone changed', index({ ...Object.fromEntries(base), '/etc': { ...etc, mtimeMs: 9999, ctimeMs: 9999, size: 8192 } }), []],
  ['a chmod of a directory', index({ ...Object.fromEntries(base), '/etc': { ...etc, mode: 0o700 } }), [{ kind: 'upsert', path: '/etc' }]],
  ['a deleted file', index({ '/etc': etc, '/app': app, '/app/lib': appLib, '/app/lib/x': appLibX }), [{ kind: 'whiteout', path: '/etc/passwd' }]],
  ['a deleted directory tree: one whiteout for the top', index({ '/etc': etc, '/etc/passwd': passwd }), [{ kind: 'whiteout', path: '/app' }]],
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
    index({ '/etc': etc, '/etc/passwd': d({ ino: 61 }), '/etc/passwd/x': f(), '/app': app, '/app/lib': appLib, '/app/lib/x': appLibX }),
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

test('link target changes are detected even with equal size and times', () => {
  const l = f({ type: 'symlink', linkTarget: '/aa', size: 3, ino: 80 });
  const before = index({ '/l': l });
  expect(diffIndexes(before, index({ '/l': { ...l, linkTarget: '/bb' } }))).toEqual([{ kind: 'upsert', path: '/l' }]);
});

test('changes come sorted by path, whiteouts among upserts', () => {
  const after = index({ '/etc': etc, '/app': app, '/app/lib': appLib, '/app/lib/x': appLibX, '/zz': f(), '/app/a': f(), '/etc/passwd-': f() });
  expect(diffIndexes(base, after).map((c) => `${c.kind} ${c.path}`)).toEqual([
    'upsert /app/a',
    'whiteout /etc/passwd',
    'upsert /etc/passwd-',
    'upsert /zz',
  ]);
});
