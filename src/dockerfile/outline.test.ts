import { describe, expect, test } from 'vitest';
import { outlineInstructions, type Proposal, type Propose } from './outline.js';
import { SourceText } from './source-text.js';

/** A stand-in for dockerfile-ast that records what it was asked and answers from a table. */
function fake(answer: (from: number, to: number) => Proposal[]): { propose: Propose; calls: [number, number][] } {
  const calls: [number, number][] = [];
  return { calls, propose: (from, to) => (calls.push([from, to]), answer(from, to)) };
}

const text = ['FROM a', '', '  RUN x \\', '  y', 'RUN cat 3<<EOF', 'body', 'EOF', 'USER u'].join('\n');
const src = new SourceText(text, 'Dockerfile');

describe('outlineInstructions', () => {
  test("uses the proposals that agree with Docker's rules, in one call", () => {
    const { propose, calls } = fake(() => [
      { line: 0, column: 1, keyword: 'FROM', endLine: 0 },
      { line: 2, column: 3, keyword: 'RUN', endLine: 3 },
      { line: 4, column: 1, keyword: 'RUN', endLine: 6 },
      { line: 7, column: 1, keyword: 'USER', endLine: 7 },
    ]);
    const out = outlineInstructions(src, '\\', propose);
    expect(calls).toEqual([[0, 7]]);
    expect(out.map((i) => [i.keyword, i.at.line, i.at.column, i.text])).toEqual([
      ['FROM', 1, 1, 'FROM a'],
      ['RUN', 3, 3, 'RUN x   y'],
      ['RUN', 5, 1, 'RUN cat 3<<EOF'],
      ['USER', 8, 1, 'USER u'],
    ]);
    expect(out[2]?.heredocs.map((h) => h.content)).toEqual(['body\n']);
  });

  test('on disagreement asks about the instruction alone, then parses again from the next one', () => {
    // Like dockerfile-ast on `3<<EOF`: the heredoc is missed and its body taken for instructions.
    const { propose, calls } = fake((from, to) => {
      const all: Proposal[] = [
        { line: 0, column: 1, keyword: 'FROM', endLine: 0 },
        { line: 2, column: 3, keyword: 'RUN', endLine: 3 },
        { line: 4, column: 1, keyword: 'RUN', endLine: 4 },
        { line: 5, column: 1, keyword: 'body', endLine: 5 },
        { line: 6, column: 1, keyword: 'EOF', endLine: 6 },
        { line: 7, column: 1, keyword: 'USER', endLine: 7 },
      ];
      return all.filter((p) => p.line >= from && p.line <= to);
    });
    const out = outlineInstructions(src, '\\', propose);
    expect(calls).toEqual([
      [0, 7],
      [4, 4],
      [7, 7],
    ]);
    expect(out.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'RUN', 'USER']);
  });

  test('without any usable proposal the keyword and column come from the text', () => {
    const { propose } = fake(() => []);
    const out = outlineInstructions(src, '\\', propose);
    expect(out.map((i) => [i.keyword, i.at.column])).toEqual([
      ['FROM', 1],
      ['RUN', 3],
      ['RUN', 1],
      ['USER', 1],
    ]);
  });

  test('asks about windows of the file, not the whole of it', () => {
    const big = new SourceText(Array.from({ length: 600 }, (_, i) => `RUN ${i}`).join('\n'), 'Dockerfile');
    const { propose, calls } = fake((from, to) =>
      Array.from({ length: to - from + 1 }, (_, k) => ({
        line: from + k,
        column: 1,
        keyword: 'RUN',
        endLine: from + k,
      })),
    );
    expect(outlineInstructions(big, '\\', propose)).toHaveLength(600);
    expect(calls).toEqual([
      [0, 255],
      [256, 511],
      [512, 599],
    ]);
  });
});
