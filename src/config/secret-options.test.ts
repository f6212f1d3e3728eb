import { expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { parseSecretFlags } from './secret-options.js';

const env = { TOKEN: 'value-not-kept', EMPTY: '' };

test.each([
  [['id=npm,src=/home/me/.npmrc'], [['npm', { kind: 'file', path: '/home/me/.npmrc' }]]],
  [['id=npm,source=rel/path'], [['npm', { kind: 'file', path: 'rel/path' }]]],
  [['id=tok,env=TOKEN'], [['tok', { kind: 'env', name: 'TOKEN' }]]],
  [['type=env,id=TOKEN'], [['TOKEN', { kind: 'env', name: 'TOKEN' }]]],
  [['type=env,id=t,src=TOKEN'], [['t', { kind: 'env', name: 'TOKEN' }]]],
  [['id=e,env=EMPTY'], [['e', { kind: 'env', name: 'EMPTY' }]]],
  [
    ['ID=a,SRC=f', 'id=b,env=TOKEN'],
    [
      ['a', { kind: 'file', path: 'f' }],
      ['b', { kind: 'env', name: 'TOKEN' }],
    ],
  ],
  [[], []],
])('--secret %j', (values, expected) => {
  expect([...parseSecretFlags(values, env)]).toEqual(expected);
});

test.each([
  [['src=/x'], /id= is required/],
  [['id=a'], /src=PATH or env=VAR is required/],
  [['id=a,src=/x,env=TOKEN'], /either src= or env=, not both/],
  [['id=a,env=MISSING'], /the environment variable MISSING is not set/],
  [['id=a,type=ssh,src=/x'], /unsupported secret type "ssh"/],
  [['id=a,colour=red'], /unexpected key "colour"/],
  [['id=a,src'], /expected KEY=VALUE fields/],
  [['id=a,src=/x', 'id=a,env=TOKEN'], /the id a is given twice/],
])('--secret %j is a usage error: %s', (values, message) => {
  expect(() => parseSecretFlags(values, env)).toThrow(UsageError);
  expect(() => parseSecretFlags(values, env)).toThrow(message);
});

test('a secret value is never part of the parsed options or of an error', () => {
  expect(JSON.stringify([...parseSecretFlags(['id=t,env=TOKEN'], env)])).not.toContain('value-not-kept');
});
