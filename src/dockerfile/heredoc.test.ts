import { describe, expect, test } from 'vitest';
import { DockerfileError } from '../errors.js';
import { canCarryHeredocs, heredocOpeners, parseHeredocWord, readHeredocBodies } from './heredoc.js';
import { SourceText } from './source-text.js';

describe('parseHeredocWord', () => {
  test.each<[string, ReturnType<typeof parseHeredocWord>]>([
    ['<<EOF', { name: 'EOF', expand: true, chomp: false }],
    ['<<-EOF', { name: 'EOF', expand: true, chomp: true }],
    ['3<<EOF', { name: 'EOF', expand: true, chomp: false }],
    ['<<"EOF"', { name: 'EOF', expand: false, chomp: false }],
    ["<<-'EOF'", { name: 'EOF', expand: false, chomp: true }],
    ['<<E"O"F', { name: 'EOF', expand: false, chomp: false }],
    ['<<"a b"', { name: 'a b', expand: false, chomp: false }],
    ['<<', undefined],
    ['"<<EOF"', undefined],
    ['a<<EOF', undefined],
    ['<<EOF<<X', undefined],
    ['<<"EOF', undefined],
  ])('%s', (word, expected) => {
    expect(parseHeredocWord(word)).toEqual(expected);
  });
});

describe('heredocOpeners', () => {
  test.each<[string, string[]]>([
    ['RUN <<EOF', ['EOF']],
    ['RUN cat <<A && cat 3<<-B', ['A', 'B']],
    ['RUN --mount=type=cache,target=/x <<EOF', ['EOF']],
    ['COPY <<a.txt <<"b.txt" /dst/', ['a.txt', 'b.txt']],
    ['onbuild run <<EOF', ['EOF']],
    ['RUN ["sh", "-c", "cat <<EOF"]', []],
    ['RUN echo "<<EOF" \'<<X\'', []],
    ['CMD cat <<EOF', []],
    ['RUN echo "unbalanced <<EOF', []],
    ['RUN echo \\<<EOF', []],
  ])('%s opens %j', (text, names) => {
    expect(heredocOpeners(text).map((h) => h.name)).toEqual(names);
  });

  test('only shell-form RUN, COPY and ADD carry heredocs', () => {
    expect(['RUN x', 'COPY a b', 'ADD a b', 'ONBUILD ADD a b'].every(canCarryHeredocs)).toBe(true);
    expect(['RUN ["x"]', 'ENV a b', 'ONBUILD', 'ONBUILD CMD x'].some(canCarryHeredocs)).toBe(false);
  });
});

describe('readHeredocBodies', () => {
  const src = new SourceText('RUN <<A <<-B\none\n  A\nA\n\ttwo\n\t\tB\nRUN next\n', 'Dockerfile');
  const where = src.where(0);

  test('bodies follow each other; <<- compares the closing line without its tabs', () => {
    const bodies = readHeredocBodies(
      src,
      1,
      [
        { name: 'A', expand: true, chomp: false },
        { name: 'B', expand: true, chomp: true },
      ],
      where,
    );
    expect(bodies).toEqual([
      { name: 'A', expand: true, chomp: false, content: 'one\n  A\n', delimiterLine: 3 },
      { name: 'B', expand: true, chomp: true, content: '\ttwo\n', delimiterLine: 5 },
    ]);
  });

  test('a missing closing line is located at the instruction', () => {
    expect(() => readHeredocBodies(src, 1, [{ name: 'Z', expand: true, chomp: false }], where)).toThrow(
      DockerfileError,
    );
    expect(() => readHeredocBodies(src, 1, [{ name: 'Z', expand: true, chomp: false }], where)).toThrow(
      'Dockerfile:1: unterminated heredoc',
    );
  });
});
