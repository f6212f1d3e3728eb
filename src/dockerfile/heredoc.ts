/**
 * Heredocs (Dockerfile reference, "Here-Documents"): RUN, COPY and ADD in shell form — also as an
 * ONBUILD trigger — take the lines after the instruction as the body of each `<<NAME` word on it,
 * up to a line holding only NAME. The opener may carry a file-descriptor number (`3<<EOF`, as in
 * the shell) and a `-` (`<<-EOF`: leading tabs are removed from the body and the closing line). If
 * any part of the delimiter is quoted (`<<"EOF"`, `<<'EOF'`, `<<E"O"F`) the body is taken
 * literally; otherwise its variables are expanded later. Openers are found by reading the line as
 * shell words, so a quoted `"<<EOF"` or a JSON-form command opens nothing.
 *
 * dockerfile-ast misses the descriptor form, looks for openers inside the exec form, and keeps
 * the quotes of `<<E"O"F` in the delimiter; Kiln decides where bodies are with these rules.
 */
import { parseJsonArgs } from './json-args.js';
import { splitInstruction } from './instruction-line.js';
import { fail, type Where } from './located.js';
import { lex } from './shell-lex.js';
import { ShellExpansionError } from './shell-param.js';
import type { SourceText } from './source-text.js';

/** A heredoc opener on an instruction line, before its body is read. */
export interface HeredocHeader {
  /** The delimiter with quotes removed; also the file name for COPY/ADD. */
  name: string;
  /** False when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
  /** True for `<<-`. */
  chomp: boolean;
}

/** A heredoc with its body as written (before `<<-` tab removal) and the line that closes it (0-based). */
export interface RawHeredoc extends HeredocHeader {
  content: string;
  delimiterLine: number;
}

const OPENER = /^[0-9]*<<(-?)([^<]+)$/;
const CARRIERS = new Set(['RUN', 'COPY', 'ADD']);

/** Whether an instruction's text may open heredocs: shell-form RUN, COPY or ADD, directly or under ONBUILD. */
export function canCarryHeredocs(text: string): boolean {
  let parts = splitInstruction(text);
  if (parts.keyword.toUpperCase() === 'ONBUILD') parts = splitInstruction(parts.rest);
  return CARRIERS.has(parts.keyword.toUpperCase()) && parseJsonArgs(parts.rest).kind !== 'json';
}

/** The heredoc a single word opens, or undefined when it opens none. */
export function parseHeredocWord(word: string): HeredocHeader | undefined {
  const match = OPENER.exec(word);
  const delimiter = match?.[2];
  if (match === null || delimiter === undefined) return undefined;
  try {
    const plain = lex(delimiter, {}, { skipUnsetEnv: true });
    const name = plain.words[0];
    if (name === undefined || plain.words.length !== 1) return undefined;
    // Quotes that lexing removed show that part of the delimiter was quoted.
    const withQuotes = lex(delimiter, {}, { skipUnsetEnv: true, rawQuotes: true }).result;
    return { name, expand: countQuotes(withQuotes) === countQuotes(plain.result), chomp: match[1] === '-' };
  } catch (err) {
    // A delimiter the lexer rejects opens no heredoc; a bug in the lexer stays a bug.
    if (err instanceof ShellExpansionError) return undefined;
    throw err;
  }
}

/** The heredocs an instruction's joined text opens, in order. */
export function heredocOpeners(text: string): HeredocHeader[] {
  if (!text.includes('<<') || !canCarryHeredocs(text)) return [];
  let words: string[];
  try {
    // Docker reads the line with `\` as the escape character whatever the escape directive.
    words = lex(text, {}, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch (err) {
    if (err instanceof ShellExpansionError) return []; // unbalanced quotes: no heredoc
    throw err;
  }
  return words.map(parseHeredocWord).filter((h): h is HeredocHeader => h !== undefined);
}

/**
 * Reads the bodies of `headers` from line `from` on, one after the other. Throws a located
 * DockerfileError when a closing line is missing.
 */
export function readHeredocBodies(
  src: SourceText,
  from: number,
  headers: readonly HeredocHeader[],
  where: Where,
): RawHeredoc[] {
  let next = from;
  return headers.map((header) => {
    let content = '';
    for (let i = next; i < src.count; i++) {
      const line = src.line(i);
      if ((header.chomp ? line.replace(/^\t+/, '') : line) === header.name) {
        next = i + 1;
        return { ...header, content, delimiterLine: i };
      }
      content += src.raw[i] ?? '';
    }
    return fail(
      where,
      'unterminated heredoc',
      `the heredoc <<${header.name} needs a line containing only ${header.name}`,
    );
  });
}

/** The body of a `<<-` heredoc: leading tabs removed from every line. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '"' || ch === "'") n++;
  return n;
}
