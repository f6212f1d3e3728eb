import { expect, test } from 'vitest';
import { buildProgram, normaliseBooleanFlags, type Action } from './program.js';

/** The raw values the command line yields for `args`, as the executor parses them. */
async function raw(args: string[]): Promise<Record<string, unknown>> {
  let action: Action | undefined;
  const program = buildProgram((a) => (action = a), { out: () => {}, err: () => {} });
  await program.parseAsync(normaliseBooleanFlags(args), { from: 'user' });
  if (action?.kind !== 'build') throw new Error('no build action');
  return action.raw as Record<string, unknown>;
}

test('the layer flags with Kaniko names, defaults and pflag boolean forms', async () => {
  expect(await raw([])).toMatchObject({ snapshotMode: 'full', ignorePath: [], ignoreVarRun: true, compression: 'gzip', compressionLevel: '-1' });
  expect(
    await raw(['--snapshot-mode=redo', '--single-snapshot=true', '--ignore-path', '/a', '--ignore-path=/b', '--ignore-var-run=false', '--compression', 'zstd', '--compression-level=19', '--reproducible']),
  ).toMatchObject({ snapshotMode: 'redo', singleSnapshot: true, ignorePath: ['/a', '/b'], ignoreVarRun: false, compression: 'zstd', compressionLevel: '19', reproducible: true });
  expect(await raw(['--ignore-var-run'])).toMatchObject({ ignoreVarRun: true });
  expect(await raw(['--ignore-var-run=1'])).toMatchObject({ ignoreVarRun: true });
});

test.each([
  [['--snapshot-mode=fast'], /--snapshot-mode.*fast.*full, redo, time/s],
  [['--compression=xz'], /--compression.*xz/],
  [['--ignore-var-run=maybe'], /--ignore-var-run.*expected true or false/],
])('%j is refused', async (args, message) => {
  await expect(raw(args)).rejects.toThrow(message);
});

test('--rootfs takes a path and --force is a boolean with pflag forms', async () => {
  expect(await raw([])).not.toHaveProperty('rootfs');
  expect(await raw(['--rootfs=/', '--force'])).toMatchObject({ rootfs: '/', force: true });
  expect(await raw(['--rootfs', '/', '--force=true'])).toMatchObject({ rootfs: '/', force: true });
  expect(await raw(['--force=false'])).not.toHaveProperty('force');
});

test("Kaniko's --use-new-run and --cleanup are accepted, with pflag boolean forms", async () => {
  expect(await raw(['--use-new-run'])).toMatchObject({ useNewRun: true });
  expect(await raw(['--use-new-run=false'])).not.toHaveProperty('useNewRun');
  expect(await raw(['--cleanup', '--rootfs=/'])).toMatchObject({ cleanup: true, rootfs: '/' });
  expect(await raw(['--cleanup=true'])).toMatchObject({ cleanup: true });
});
