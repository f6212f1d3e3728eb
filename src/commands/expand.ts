/**
 * Word expansion for handlers, turning the lexer's errors into Dockerfile errors at the instruction.
 * Only {@link ShellExpansionError} is the Dockerfile's fault; anything else is a bug and keeps its
 * class, so the CLI reports it as one (exit 1 with its stack) instead of as a Dockerfile error.
 */
import { DockerfileError } from '../errors.js';
import { expandWord, expandWords, ShellExpansionError } from '../dockerfile/shell-lex.js';
import type { Instruction } from '../dockerfile/instructions.js';
import { expansionEnv, type StageState } from './step.js';

function wrap<T>(ins: Instruction, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ShellExpansionError)) throw err;
    throw new DockerfileError(`${ins.kind}: ${err.message}`, ins.at, { cause: err, source: ins.text });
  }
}

/** Expands one word (quotes removed, variables substituted) in the stage's scope. */
export function expand(ins: Instruction, state: StageState, word: string): string {
  return wrap(ins, () => expandWord(word, expansionEnv(state), state.escape));
}

/** Expands a text and splits it into words on unquoted whitespace. */
export function expandToWords(ins: Instruction, state: StageState, text: string): string[] {
  return wrap(ins, () => expandWords(text, expansionEnv(state), state.escape));
}
