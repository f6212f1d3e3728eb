import { expect, test } from 'vitest';
import { editDistance, suggest } from './suggest.js';

test.each<[string, string, number]>([
  ['chonw', 'chown', 2],
  ['RUNN', 'RUN', 1],
  ['', 'abc', 3],
  ['kitten', 'sitting', 3],
])('editDistance(%s, %s) is %i', (a, b, d) => {
  expect(editDistance(a, b)).toBe(d);
});

test.each<[string, string[], boolean, string | undefined]>([
  ['chonw', ['chown', 'chmod', 'from'], true, 'chown'],
  ['RUNN', ['RUN', 'FROM'], false, 'RUN'],
  ['runn', ['RUN', 'FROM'], false, 'run'],
  ['Runn', ['RUN', 'FROM'], false, 'run'],
  ['zzzzzz', ['RUN', 'FROM'], false, undefined],
  ['run', ['RUN'], false, undefined],
])('suggest(%s) is %s', (value, candidates, caseSensitive, expected) => {
  expect(suggest(value, candidates, caseSensitive)).toBe(expected);
});
