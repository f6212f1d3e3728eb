/**
 * Heredocs (`RUN <<EOF`, `COPY <<-"EOF" /dest`), after BuildKit's parser: only RUN, COPY and ADD
 * in shell form (also as an ONBUILD trigger) can carry them; every word of the instruction line
 * of the form `[n]<<[-]NAME` opens one, and their bodies follow the line in order. A delimiter
 * with any quoting (`<<"EOF"`, `<<'EOF'`, `<<E"O"F`) disables variable expansion of the body;
 * `<<-` strips leading tabs from the body and from the terminator line.
 */
import { parseJsonArgs } from './json-args.js';
import { lex } from './shell-lex.js';
import { splitCommand } from './split-command.js';

/** A heredoc opener found on an instruction line, before its body is read. */
export interface HeredocHeader {
  /** The delimiter with quotes removed; also the file name for COPY/ADD. */
  name: string;
  /** False when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
  /** True for `<<-`. */
  chomp: boolean;
}

const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;
const CAN_CARRY = new Set(['run', 'copy', 'add']);

/** Whether an instruction line may open heredocs (shell-form RUN/COPY/ADD, directly or under ONBUILD). */
export function canContainHeredoc(line: string): boolean {
  let cmd = splitCommand(line);
  if (cmd.keyword.toLowerCase() === 'onbuild') {
    if (cmd.rest === '') return false;
    cmd = splitCommand(cmd.rest);
  }
  return CAN_CARRY.has(cmd.keyword.toLowerCase()) && parseJsonArgs(cmd.rest).kind !== 'json';
}

/**
 * The heredoc a single word opens, or undefined. Throws the lexer's error for a malformed
 * delimiter such as `<<"EOF`.
 */
export function parseHeredocWord(word: string): HeredocHeader | undefined {
  const m = HEREDOC_WORD.exec(word);
  const rest = m?.[3];
  if (m === null || rest === undefined || rest === '') return undefined;
  // Lex the delimiter with and without quotes: if quote counts differ, some part was quoted.
  const plain = lex(rest, {}, { skipUnsetEnv: true }).words;
  if (plain.length !== 1 || plain[0] === undefined) return undefined;
  const raw = lex(rest, {}, { skipUnsetEnv: true, rawQuotes: true }).words[0] ?? '';
  const name = plain[0];
  return { name, expand: countQuotes(name) === countQuotes(raw), chomp: m[2] === '-' };
}

/** The heredocs an instruction line opens, in order (BuildKit `heredocsFromLine`). */
export function heredocsInLine(line: string): HeredocHeader[] {
  if (!line.includes('<<') || !canContainHeredoc(line)) return [];
  let words: string[];
  try {
    // Always `\` here, whatever the escape directive, as BuildKit does.
    words = lex(line, {}, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return []; // unbalanced quotes: BuildKit ignores the error and finds no heredoc
  }
  const found: HeredocHeader[] = [];
  for (const word of words) {
    const heredoc = parseHeredocWord(word);
    if (heredoc) found.push(heredoc);
  }
  return found;
}

/** `<<-` body processing: leading tabs removed from every line (BuildKit `ChompHeredocContent`). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '"' || ch === "'") n++;
  return n;
}
