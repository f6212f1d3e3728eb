/**
 * Where one instruction begins and ends under Docker's rules: its logical line (continuations
 * joined, logical-line.ts), then the bodies of the heredocs it opens (heredoc.ts), which follow it
 * line by line. The next instruction starts at the first content line after that.
 */
import { heredocOpeners, readHeredocBodies, type RawHeredoc } from './heredoc.js';
import { readLogicalLine } from './logical-line.js';
import type { SourceText } from './source-text.js';

/** One instruction's lines (0-based) and text. */
export interface Extent {
  /** The line of the keyword. */
  start: number;
  /** The joined text, starting at the keyword. */
  text: string;
  /** The last line of the logical line. */
  logicalEnd: number;
  heredocs: RawHeredoc[];
  /** The last line of the instruction: the last heredoc's closing line, or `logicalEnd`. */
  end: number;
}

/** The extent of the instruction starting on line `start`. Throws for an unterminated heredoc. */
export function extentAt(src: SourceText, start: number, escape: string): Extent {
  const { text, lastLine } = readLogicalLine(src, start, escape);
  const heredocs = readHeredocBodies(src, lastLine + 1, heredocOpeners(text), src.where(start));
  const last = heredocs[heredocs.length - 1];
  return { start, text, logicalEnd: lastLine, heredocs, end: last === undefined ? lastLine : last.delimiterLine };
}
