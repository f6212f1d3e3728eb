import { expect, test } from 'vitest';
import { lex } from './shell-lex.js';
import { applyParamOperator, ShellExpansionError, type ParamOperator } from './shell-param.js';

test.each<[ParamOperator, string | undefined, string, string]>([
  ['-', undefined, 'd', 'd'],
  ['-', '', 'd', ''],
  [':-', '', 'd', 'd'],
  ['+', '', 'alt', 'alt'],
  [':+', '', 'alt', ''],
  [':+', 'v', 'alt', 'alt'],
  ['?', '', 'msg', ''],
  ['#', 'a.b.c', '*.', 'b.c'],
  ['##', 'a.b.c', '*.', 'c'],
  ['%', 'a.b.c', '.*', 'a.b'],
  ['%%', 'a.b.c', '.*', 'a'],
  ['#', undefined, 'x', ''],
])('%s on %j with %j gives %j', (op, value, word, expected) => {
  expect(applyParamOperator('V', value, op, { word })).toBe(expected);
});

test('replacement is literal', () => {
  expect(applyParamOperator('V', 'a-b-c', '//', { word: '-', replacement: '$1' })).toBe('a$1b$1c');
});

test.each<[ParamOperator, string | undefined, string]>([
  ['?', undefined, 'V: is not allowed to be unset'],
  [':?', '', 'V: is not allowed to be empty'],
  [':?', undefined, 'V: is not allowed to be unset'],
])('%s on %j fails with %j', (op, value, message) => {
  expect(() => applyParamOperator('V', value, op, { word: '' })).toThrow(new ShellExpansionError(message));
});

test.each(['${A:#x}', '${A:%x}', '${A:/x/y}', '${#A}', '${A:=x}'])('%s is not Dockerfile syntax', (word) => {
  expect(() => lex(word, { A: 'a' })).toThrow(ShellExpansionError);
});

test('references to unset variables can be kept exactly as written', () => {
  expect(lex('${X//a/b} $Y ${Z:-d} $A', { A: 'a' }, { skipUnsetEnv: true }).result).toBe('${X//a/b} $Y ${Z:-d} a');
});
