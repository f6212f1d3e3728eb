/**
 * Docker's line continuation: an instruction continues on the next line when its line ends with
 * the escape character (`\`, or `` ` `` under `# escape=`` ` ``), optionally followed by spaces or
 * tabs — unless that escape character is itself escaped (`C:\\` at the end of a line ends the
 * instruction). The escape character and what follows it are removed and the lines are joined as
 * they are: no space is inserted and a continuation line keeps its leading whitespace. Comment
 * lines and blank lines inside a continued instruction are dropped, so they never reach
 * `/bin/sh -c` (Dockerfile reference, "Format" and "escape").
 *
 * This decides the text of every instruction; dockerfile-ast keeps those comment lines in its
 * argument text and continues after an escaped escape, so Kiln joins the lines itself.
 */
import { trimLeftSpace } from './chars.js';
import type { SourceText } from './source-text.js';

/** An instruction's text with its continuations joined. */
export interface LogicalLine {
  /** The joined text, starting at the keyword (leading whitespace of the first line removed). */
  text: string;
  /** The last physical line read for it (a comment or blank line when the file ended mid-continuation). */
  lastLine: number;
}

/** Reads the instruction that starts on line `start`. */
export function readLogicalLine(src: SourceText, start: number, escape: string): LogicalLine {
  let [text, continues] = cutContinuation(trimLeftSpace(src.line(start)), escape);
  let lastLine = start;
  while (continues && lastLine + 1 < src.count) {
    lastLine++;
    if (src.isComment(lastLine) || src.isBlank(lastLine)) continue;
    let part: string;
    [part, continues] = cutContinuation(src.line(lastLine), escape);
    text += part;
  }
  return { text, lastLine };
}

/**
 * `line` without its continuation marker, and whether there was one: the escape character as the
 * last character before trailing spaces and tabs, not preceded by another escape character.
 */
export function cutContinuation(line: string, escape: string): [string, boolean] {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  if (end === 0 || line[end - 1] !== escape || line[end - 2] === escape) return [line, false];
  return [line.slice(0, end - 1), true];
}
