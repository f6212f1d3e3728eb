import { expect, test } from 'vitest';
import { buildProgram, normaliseBooleanFlags, type Action } from './program.js';

test('pflag-style boolean values are accepted as Kaniko does', () => {
  expect(normaliseBooleanFlags(['--no-push=true', '--insecure=false', '--skip-tls-verify=TRUE', '--context=dir://x'])).toEqual([
    '--no-push',
    '--skip-tls-verify',
    '--context=dir://x',
  ]);
});

/** The raw values the command line yields for `args`, as the executor parses them. */
async function raw(args: string[]): Promise<Record<string, unknown>> {
  let action: Action | undefined;
  const program = buildProgram((a) => (action = a), { out: () => {}, err: () => {} });
  await program.parseAsync(normaliseBooleanFlags(args), { from: 'user' });
  if (action?.kind !== 'build') throw new Error('no build action');
  return action.raw as Record<string, unknown>;
}

test('--network-timeout takes a duration, in both flag forms; absent by default', async () => {
  expect((await raw([])).networkTimeout).toBeUndefined();
  expect(await raw(['--network-timeout', '5s'])).toMatchObject({ networkTimeout: '5s' });
  expect(await raw(['--network-timeout=90'])).toMatchObject({ networkTimeout: '90' });
});
