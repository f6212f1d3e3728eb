/**
 * Errors keep their class: history text falls back to a word as written only when the lexer
 * refuses it (a malformed word); a bug in the lexer is not hidden behind that fallback.
 */
import { describe, expect, test, vi } from 'vitest';
import type { StageState } from '../commands/step.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { lex } from '../dockerfile/shell-lex.js';
import { BuildError } from '../errors.js';
import { createdBy } from './created-by.js';

vi.mock('../dockerfile/shell-lex.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../dockerfile/shell-lex.js')>();
  return { ...real, lex: vi.fn(real.lex) };
});

const state: StageState = { config: {}, args: new Map(), escape: '\\', cmdSet: false };

/** The call of createdBy on the one instruction in `text`, parsed now. */
function history(text: string): () => string {
  const ins = parseDockerfile(`FROM scratch\n${text}`).stages[0]?.instructions[0];
  if (!ins) throw new Error(`no instruction in ${text}`);
  return () => createdBy(ins, state, state);
}

describe.each([
  // literal(): one word
  { text: 'USER ${A', refused: 'USER ${A', valid: 'USER app' },
  // words(): a list of words
  { text: `VOLUME ["'x"]`, refused: `VOLUME ['x]`, valid: 'VOLUME /data' },
])('$text', ({ text, refused, valid }) => {
  test('a word the lexer refuses is written as it is, as before', () => {
    expect(history(text)()).toBe(refused);
  });

  test('a bug in the lexer keeps its class and identity', () => {
    const run = history(valid);
    const bug = new TypeError('cannot read properties of undefined');
    vi.mocked(lex).mockImplementationOnce(() => {
      throw bug;
    });
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBe(bug);
    expect(err).not.toBeInstanceOf(BuildError);
  });
});
