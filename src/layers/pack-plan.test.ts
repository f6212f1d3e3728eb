import { expect, test } from 'vitest';
import { planEntries } from './pack-plan.js';

test('adds every parent once, sorts, turns whiteouts into .wh. entries and keeps opaque on the dir', () => {
  const plan = planEntries([
    { kind: 'upsert', path: '/x/y/z' },
    { kind: 'whiteout', path: '/x/old' },
    { kind: 'opaque', path: '/o' },
    { kind: 'upsert', path: '/o/new' },
    { kind: 'upsert', path: '/x/y' },
    { kind: 'whiteout', path: '/gone' },
  ]);
  expect(plan).toEqual([
    { kind: 'whiteout', path: '/.wh.gone', target: '/gone' },
    { kind: 'node', path: '/o', opaque: true },
    { kind: 'node', path: '/o/new', opaque: false },
    { kind: 'node', path: '/x', opaque: false },
    { kind: 'whiteout', path: '/x/.wh.old', target: '/x/old' },
    { kind: 'node', path: '/x/y', opaque: false },
    { kind: 'node', path: '/x/y/z', opaque: false },
  ]);
});

test('an opaque root gets only its marker, no entry for / itself', () => {
  expect(
    planEntries([
      { kind: 'opaque', path: '/' },
      { kind: 'upsert', path: '/a' },
    ]),
  ).toEqual([
    { kind: 'node', path: '/', opaque: true },
    { kind: 'node', path: '/a', opaque: false },
  ]);
});
