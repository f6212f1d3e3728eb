import { describe, expect, test } from 'vitest';
import { parseArgs, parseKeyValues, parseWords } from './key-value.js';

describe('parseWords keeps quotes and escapes', () => {
  test.each<[string, string, string[]]>([
    ['a b', '\\', ['a', 'b']],
    ['a="x y" b', '\\', ['a="x y"', 'b']],
    ["a='x \\' b", '\\', ["a='x \\'", 'b']],
    ['a="x \\" y" b', '\\', ['a="x \\" y"', 'b']],
    ['a\\ b c', '\\', ['a\\ b', 'c']],
    ['a\\"b c', '\\', ['a\\"b', 'c']],
    ['"" x', '\\', ['""', 'x']],
    ['a`"b c', '`', ['a`"b', 'c']],
    ['a\\ b', '`', ['a\\', 'b']],
    ['trailing\\', '\\', ['trailing']],
  ])('%j (escape %s) → %j', (rest, escape, words) => {
    expect(parseWords(rest, escape)).toEqual(words);
  });
});

describe('parseKeyValues', () => {
  test('legacy form keeps the rest of the line raw', () => {
    expect(parseKeyValues('K  "v 1"  x', 'ENV', '\\')).toEqual([{ key: 'K', value: '"v 1"  x' }]);
  });
  test('values may contain =', () => {
    expect(parseKeyValues('A=b=c', 'LABEL', '\\')).toEqual([{ key: 'A', value: 'b=c' }]);
  });
});

describe('parseArgs', () => {
  test('names with and without defaults', () => {
    expect(parseArgs('A B=1 C="2 3"', '\\')).toEqual([
      { name: 'A' },
      { name: 'B', defaultValue: '1' },
      { name: 'C', defaultValue: '"2 3"' },
    ]);
  });
});
