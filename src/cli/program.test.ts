import { expect, test } from 'vitest';
import { CommanderError } from 'commander';
import { parseCommandLine } from './program.js';
import { rawFlags } from '../../test/support/cli-raw.js';

test('pflag-style boolean values are accepted as Kaniko does', async () => {
  const raw = await rawFlags(['--no-push=true', '--insecure=false', '--skip-tls-verify=TRUE', '--context=dir://x']);
  expect(raw).toMatchObject({ push: false, skipTlsVerify: true, context: 'dir://x' });
  expect(raw).not.toHaveProperty('insecure');
});

test('--network-timeout takes a duration, in both flag forms; absent by default', async () => {
  expect((await rawFlags([])).networkTimeout).toBeUndefined();
  expect(await rawFlags(['--network-timeout', '5s'])).toMatchObject({ networkTimeout: '5s' });
  expect(await rawFlags(['--network-timeout=90'])).toMatchObject({ networkTimeout: '90' });
});

test.each([
  ['INFO', 'info'],
  ['Trace', 'trace'],
  ['warning', 'warn'],
  ['DEBUG', 'debug'],
])('--verbosity %s is read in any case, as logrus does (%s)', async (given, level) => {
  expect(await rawFlags(['--verbosity', given])).toMatchObject({ verbosity: level });
  expect(await rawFlags([`-v=${given}`])).toMatchObject({ verbosity: level });
});

test('an unknown --verbosity names the levels', async () => {
  await expect(rawFlags(['-v', 'loud'])).rejects.toThrow(
    /expected one of panic, fatal, error, warn, info, debug, trace/,
  );
});

/** What `executor ARGS` prints on stdout, and the exit code commander asks for. */
async function helpOf(args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  let out = '';
  try {
    await parseCommandLine(args, { out: (s) => (out += s), err: () => {} });
    return { out, exitCode: undefined };
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { out, exitCode: err.exitCode };
  }
}

test.each([[['help']], [['--help']], [['-h']]])('`executor %j` prints the usage and exits 0', async (args) => {
  const { out, exitCode } = await helpOf(args);
  expect(exitCode).toBe(0);
  expect(out).toMatch(/^Usage: executor \[options\] \[command\]/);
  expect(out).toContain('--dockerfile');
  // The cache flags are offered; the hidden negations of Kaniko's true-by-default flags are not.
  expect(out).toContain('--cache-repo');
  expect(out).toMatch(/--compressed-caching +accepted for Kaniko's command lines; changes nothing/);
  expect(out).not.toContain('--no-cache-run-layers');
});

test('`executor help version` prints the version command’s usage and exits 0', async () => {
  const { out, exitCode } = await helpOf(['help', 'version']);
  expect(exitCode).toBe(0);
  expect(out).toMatch(/^Usage: executor version/);
});

test('the deprecation warnings come with the build action', async () => {
  const action = await parseCommandLine(['--tarPath=x.tar', '--no-push'], { out: () => {}, err: () => {} });
  expect(action).toMatchObject({
    kind: 'build',
    raw: { tarPath: 'x.tar' },
    warnings: ['Flag --tarPath is deprecated. Use: --tar-path'],
  });
});
