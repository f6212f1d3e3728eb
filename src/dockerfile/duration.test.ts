import { expect, test } from 'vitest';
import { parseGoDuration } from './duration.js';

test.each<[string, number | undefined]>([
  ['0', 0],
  ['30s', 30e9],
  ['1m30s', 90e9],
  ['1.5h', 5400e9],
  ['500ms', 500e6],
  ['2us', 2000],
  ['2µs', 2000],
  ['10ns', 10],
  ['-1s', -1e9],
  ['+.5s', 5e8],
  ['1', undefined],
  ['', undefined],
  ['s', undefined],
  ['.s', undefined],
  ['1d', undefined],
  ['1s2', undefined],
])('parseGoDuration(%j) is %s', (text, ns) => {
  expect(parseGoDuration(text)).toBe(ns);
});
