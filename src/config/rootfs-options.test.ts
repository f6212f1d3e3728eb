import { expect, test } from 'vitest';
import { parseBuildOptions } from './options.js';

const opts = (raw: Parameters<typeof parseBuildOptions>[0]): ReturnType<typeof parseBuildOptions> =>
  parseBuildOptions({ push: false, ...raw }, {});

test.each<[string, { rootfs?: string; force?: boolean }, { inPlace: boolean; force: boolean }]>([
  ['no --rootfs: every stage in its own directory', {}, { inPlace: false, force: false }],
  ['--rootfs=/', { rootfs: '/' }, { inPlace: true, force: false }],
  ['--rootfs=// (normalised)', { rootfs: '//' }, { inPlace: true, force: false }],
  ['--rootfs=/ --force', { rootfs: '/', force: true }, { inPlace: true, force: true }],
  ['--force alone (harmless: nothing to force)', { force: true }, { inPlace: false, force: true }],
])('%s', (_name, raw, expected) => {
  const o = opts(raw);
  expect({ inPlace: o.inPlace, force: o.force }).toEqual(expected);
});

test.each(['/tmp/x', 'rootfs', '', '.'])('--rootfs=%j is refused: only / is supported', (value) => {
  expect(() => opts({ rootfs: value })).toThrow(/^--rootfs ".*": only \/ is supported/);
});

test('--cleanup is carried to the build options (it acts only in place)', () => {
  expect(opts({ rootfs: '/', cleanup: true }).cleanup).toBe(true);
  expect(opts({}).cleanup).toBe(false);
});
