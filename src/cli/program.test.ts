import { expect, test } from 'vitest';
import { normaliseBooleanFlags } from './program.js';

test('pflag-style boolean values are accepted as Kaniko does', () => {
  expect(normaliseBooleanFlags(['--no-push=true', '--insecure=false', '--skip-tls-verify=TRUE', '--context=dir://x'])).toEqual([
    '--no-push',
    '--skip-tls-verify',
    '--context=dir://x',
  ]);
});
