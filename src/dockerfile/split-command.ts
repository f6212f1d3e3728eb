/**
 * BuildKit's `splitCommand`: an instruction line is a keyword, then flags, then arguments. The
 * keyword and flags are split off here; the arguments stay text for the per-instruction parsers.
 */
import { splitFirstWord, trimSpace } from './chars.js';
import { extractBuilderFlags } from './flags.js';

/** An instruction line split into its parts; `rest` is trimmed. */
export interface SplitCommand {
  /** The keyword as written (any case). */
  keyword: string;
  /** Flag words, each starting with `--`, quotes already removed. */
  flagWords: string[];
  rest: string;
}

/** Splits `line` (a joined logical line) into keyword, flag words and the rest. */
export function splitCommand(line: string): SplitCommand {
  const [keyword, after] = splitFirstWord(trimSpace(line));
  if (after === undefined) return { keyword, flagWords: [], rest: '' };
  const { flags, rest } = extractBuilderFlags(after);
  return { keyword, flagWords: flags, rest: trimSpace(rest) };
}
