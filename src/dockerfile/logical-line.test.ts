import { describe, expect, test } from 'vitest';
import { cutContinuation, readLogicalLine } from './logical-line.js';
import { SourceText } from './source-text.js';

describe('cutContinuation', () => {
  test.each<[string, string, [string, boolean]]>([
    ['RUN a \\', '\\', ['RUN a ', true]],
    ['RUN a \\ \t ', '\\', ['RUN a ', true]],
    ['\\', '\\', ['', true]],
    ['RUN a \\\\', '\\', ['RUN a \\\\', false]],
    ['RUN a \\x', '\\', ['RUN a \\x', false]],
    ['RUN a `', '`', ['RUN a ', true]],
    ['RUN a \\', '`', ['RUN a \\', false]],
    ['RUN a ``', '`', ['RUN a ``', false]],
    ['', '\\', ['', false]],
  ])('%j with escape %s', (line, escape, expected) => {
    expect(cutContinuation(line, escape)).toEqual(expected);
  });
});

describe('readLogicalLine', () => {
  const src = new SourceText(
    ['  RUN a \\', '  # a comment \\', '', '   \t', '  b \\', '# c', 'c', 'RUN d \\', '# trailing'].join('\n'),
    'Dockerfile',
  );

  test('joins as written, dropping comment and blank lines', () => {
    expect(readLogicalLine(src, 0, '\\')).toEqual({ text: 'RUN a   b c', lastLine: 6 });
  });

  test('a continuation running into the end of the file ends there', () => {
    expect(readLogicalLine(src, 7, '\\')).toEqual({ text: 'RUN d ', lastLine: 8 });
  });

  test('with the backtick escape a backslash does not continue', () => {
    expect(readLogicalLine(src, 0, '`')).toEqual({ text: 'RUN a \\', lastLine: 0 });
  });
});
