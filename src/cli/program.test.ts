import { expect, test } from 'vitest';
import { normaliseBooleanFlags } from './program.js';
import { rawFlags } from '../../test/support/cli-raw.js';

test('pflag-style boolean values are accepted as Kaniko does', () => {
  expect(
    normaliseBooleanFlags(['--no-push=true', '--insecure=false', '--skip-tls-verify=TRUE', '--context=dir://x']),
  ).toEqual(['--no-push', '--skip-tls-verify', '--context=dir://x']);
});

test('--network-timeout takes a duration, in both flag forms; absent by default', async () => {
  expect((await rawFlags([])).networkTimeout).toBeUndefined();
  expect(await rawFlags(['--network-timeout', '5s'])).toMatchObject({ networkTimeout: '5s' });
  expect(await rawFlags(['--network-timeout=90'])).toMatchObject({ networkTimeout: '90' });
});
