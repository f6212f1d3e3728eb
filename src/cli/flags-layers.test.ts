import { expect, test } from 'vitest';
import { rawFlags } from '../../test/support/cli-raw.js';

test('the layer flags with Kaniko names, defaults and pflag boolean forms', async () => {
  expect(await rawFlags([])).toMatchObject({
    snapshotMode: 'full',
    ignorePath: [],
    ignoreVarRun: true,
    compression: 'gzip',
    compressionLevel: '-1',
  });
  expect(
    await rawFlags([
      '--snapshot-mode=redo',
      '--single-snapshot=true',
      '--ignore-path',
      '/a',
      '--ignore-path=/b',
      '--ignore-var-run=false',
      '--compression',
      'zstd',
      '--compression-level=19',
      '--reproducible',
    ]),
  ).toMatchObject({
    snapshotMode: 'redo',
    singleSnapshot: true,
    ignorePath: ['/a', '/b'],
    ignoreVarRun: false,
    compression: 'zstd',
    compressionLevel: '19',
    reproducible: true,
  });
  expect(await rawFlags(['--ignore-var-run'])).toMatchObject({ ignoreVarRun: true });
  expect(await rawFlags(['--ignore-var-run=1'])).toMatchObject({ ignoreVarRun: true });
});

test.each([
  [['--snapshot-mode=fast'], /--snapshot-mode.*fast.*full, redo, time/s],
  [['--compression=xz'], /--compression.*xz/],
  [['--ignore-var-run=maybe'], /--ignore-var-run.*expected true or false/],
])('%j is refused', async (args, message) => {
  await expect(rawFlags(args)).rejects.toThrow(message);
});

test('--rootfs takes a path and --force is a boolean with pflag forms', async () => {
  expect(await rawFlags([])).not.toHaveProperty('rootfs');
  expect(await rawFlags(['--rootfs=/', '--force'])).toMatchObject({ rootfs: '/', force: true });
  expect(await rawFlags(['--rootfs', '/', '--force=true'])).toMatchObject({ rootfs: '/', force: true });
  expect(await rawFlags(['--force=false'])).not.toHaveProperty('force');
});

test("Kaniko's --use-new-run and --cleanup are accepted, with pflag boolean forms", async () => {
  expect(await rawFlags(['--use-new-run'])).toMatchObject({ useNewRun: true });
  expect(await rawFlags(['--use-new-run=false'])).not.toHaveProperty('useNewRun');
  expect(await rawFlags(['--cleanup', '--rootfs=/'])).toMatchObject({ cleanup: true, rootfs: '/' });
  expect(await rawFlags(['--cleanup=true'])).toMatchObject({ cleanup: true });
});
