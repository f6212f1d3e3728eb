import { expect, test } from 'vitest';
import { parseBuildOptions } from './options.js';
import { layerTimes } from './layer-options.js';

const opts = (raw: Parameters<typeof parseBuildOptions>[0]): ReturnType<typeof parseBuildOptions> =>
  parseBuildOptions({ push: false, ...raw }, {});

test('Kaniko defaults: full snapshots, one layer per step, /var/run ignored, gzip at its default level', () => {
  const o = opts({});
  expect([o.snapshotMode, o.singleSnapshot, o.ignorePaths, o.compression, o.compressionLevel, o.reproducible]).toEqual([
    'full',
    false,
    ['/var/run'],
    'gzip',
    undefined,
    false,
  ]);
});

test('--ignore-path is repeatable and absolute; --ignore-var-run=false keeps /var/run', () => {
  expect(opts({ ignorePath: ['/tmp/cache', 'var/lib/x/', '/tmp/cache'], ignoreVarRun: false }).ignorePaths).toEqual([
    '/tmp/cache',
    '/var/lib/x',
  ]);
  expect(() => opts({ ignorePath: [' '] })).toThrow(/--ignore-path: the path is empty/);
});

test.each([
  ['gzip', '9', 9],
  ['gzip', '0', 0],
  ['gzip', '-1', undefined],
  ['zstd', '19', 19],
  ['zstd', '22', 22],
  ['zstd', -1, undefined],
] as const)('--compression=%s --compression-level=%s is level %s', (compression, level, expected) => {
  expect(opts({ compression, compressionLevel: level }).compressionLevel).toBe(expected);
});

test.each([
  ['gzip', '10', /gzip levels are 0 to 9/],
  ['zstd', '0', /zstd levels are 1 to 22/],
  ['gzip', 'fast', /expected a whole number/],
] as const)('--compression=%s --compression-level=%s is refused', (compression, level, message) => {
  expect(() => opts({ compression, compressionLevel: level })).toThrow(message);
});

test('unknown --snapshot-mode and --compression values are refused naming the flag', () => {
  expect(() => opts({ snapshotMode: 'fast' as 'full' })).toThrow(/--snapshot-mode/);
  expect(() => opts({ compression: 'xz' as 'gzip' })).toThrow(/--compression/);
});

test.each([
  [{ reproducible: false }, {}, { created: '2030-01-01T00:00:00Z' }],
  [{ reproducible: true }, {}, { created: '1970-01-01T00:00:00Z', clampMtime: new Date(0) }],
  [
    { reproducible: false },
    { SOURCE_DATE_EPOCH: '1700000000' },
    { created: '2023-11-14T22:13:20Z', clampMtime: new Date(1_700_000_000_000) },
  ],
  [
    { reproducible: true },
    { SOURCE_DATE_EPOCH: '1700000000' },
    { created: '2023-11-14T22:13:20Z', clampMtime: new Date(0) },
  ],
])('layerTimes(%j, %j) is %j', (o, env, expected) => {
  expect(layerTimes(o, env, new Date('2030-01-01T00:00:00Z'))).toEqual(expected);
});
