/**
 * The parts of an instruction's joined text: the keyword (the first word), the flags (leading
 * `--name=value` words, flags.ts) and the arguments, which stay text for each instruction's own
 * rules (JSON or shell form, key=value pairs, word lists).
 */
import { splitFirstWord, trimSpace } from './chars.js';
import { extractBuilderFlags } from './flags.js';

/** An instruction split into its parts. */
export interface InstructionParts {
  /** The keyword as written (any case). */
  keyword: string;
  /** Flag words, each starting with `--`, quotes and escapes removed. */
  flagWords: string[];
  /** The arguments after the flags, trimmed. */
  rest: string;
}

/** Splits a joined instruction text into keyword, flag words and arguments. */
export function splitInstruction(text: string): InstructionParts {
  const [keyword, after] = splitFirstWord(trimSpace(text));
  if (after === undefined) return { keyword, flagWords: [], rest: '' };
  const { flags, rest } = extractBuilderFlags(after);
  return { keyword, flagWords: flags, rest: trimSpace(rest) };
}
