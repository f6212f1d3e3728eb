import { expect, test } from 'vitest';
import { DirectiveParser } from './directives.js';

/** Feeds lines in order and returns the directives found (or the error message). */
function directivesOf(lines: string[]): Record<string, string> | string {
  const parser = new DirectiveParser();
  const found: Record<string, string> = {};
  try {
    for (const line of lines) {
      const d = parser.parseLine(line);
      if (d) found[d.name] = d.value;
    }
  } catch (err) {
    return (err as Error).message;
  }
  return found;
}

test.each<[string[], Record<string, string> | string]>([
  [['# syntax=docker/dockerfile:1', '# escape=`'], { syntax: 'docker/dockerfile:1', escape: '`' }],
  [['#ESCAPE = ` ', 'FROM a'], { escape: '`' }],
  [['# check=skip=all'], { check: 'skip=all' }],
  [['', '# escape=`'], {}],
  [['# a comment', '# escape=`'], {}],
  [['# unknown=x', '# escape=`'], {}],
  [['FROM a', '# escape=`'], {}],
  [['# escape='], {}],
  [['# syntax=a', '# syntax=b'], 'only one syntax parser directive can be used'],
])('%j → %j', (lines, expected) => {
  expect(directivesOf(lines)).toEqual(expected);
});
