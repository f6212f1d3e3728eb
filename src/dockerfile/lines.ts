/**
 * The line scanner: Dockerfile text → logical instruction lines, a port of BuildKit's
 * `parser.Parse` loop. Docker's rules, which Kiln must reproduce exactly because they decide what
 * text reaches `/bin/sh -c`:
 * - a line ending in the escape character (optionally followed by spaces/tabs) continues on the
 *   next line; the escape and the newline are removed and the lines are concatenated as they are
 *   (no space is inserted; continuation lines keep their leading whitespace);
 * - comment lines and blank lines inside a continuation are dropped;
 * - `#` starts a comment only as the first non-blank character of a line;
 * - heredoc bodies follow the instruction line and are taken verbatim.
 */
import { type SourceLocation } from '../errors.js';
import { isSpace, trimLeftSpace } from './chars.js';
import { DirectiveError, DirectiveParser } from './directives.js';
import { heredocsInLine, type HeredocHeader } from './heredoc.js';
import { fail, type Where } from './located.js';

/** A heredoc with its body exactly as written (before `<<-` tab stripping). */
export interface RawHeredoc extends HeredocHeader {
  content: string;
}

/** One instruction's text after continuation joining. */
export interface LogicalLine {
  /** Location of the instruction keyword (1-based). */
  at: SourceLocation;
  /** Last physical line of the instruction, heredoc bodies included. */
  endLine: number;
  /** The joined line (Docker's `Node.Original`), starting at the keyword. */
  text: string;
  /** The first physical line as written, for error messages. */
  source: string;
  heredocs: RawHeredoc[];
}

/** The scanner's output: directives, the escape character in force, and the instruction lines. */
export interface ScannedDockerfile {
  directives: Record<string, string>;
  escape: '\\' | '`';
  lines: LogicalLine[];
}

/** Splits a Dockerfile into logical lines. Throws DockerfileError for bad directives and unterminated heredocs. */
export function scanDockerfile(text: string, file: string): ScannedDockerfile {
  const physical = text === '' ? [] : text.split(/(?<=\n)/);
  const directiveParser = new DirectiveParser();
  const directives: Record<string, string> = {};
  let escape: '\\' | '`' = '\\';
  let continuation = continuationRegExp(escape);
  const lines: LogicalLine[] = [];

  let i = 0;
  while (i < physical.length) {
    let raw = physical[i] ?? '';
    if (i === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1); // byte-order mark
    const lineNo = ++i;
    const untrimmed = trimNewline(raw);
    const token = trimLeftSpace(untrimmed);
    const where: Where = { at: { file, line: lineNo, column: untrimmed.length - token.length + 1 }, source: untrimmed };

    const directive = parseDirective(directiveParser, token, where);
    if (directive) {
      directives[directive.name] = directive.value;
      if (directive.name === 'escape') {
        escape = escapeOf(directive.value, where);
        continuation = continuationRegExp(escape);
      }
    }

    let [joined, ended] = trimContinuation(isComment(token) ? '' : token, continuation);
    if (ended && joined === '') continue;
    while (!ended && i < physical.length) {
      const next = trimNewline(physical[i] ?? '');
      i++;
      if (isComment(next) || trimLeftSpace(next) === '') continue;
      let part: string;
      [part, ended] = trimContinuation(next, continuation);
      joined += part;
    }
    if (trimLeftSpace(joined) === '') continue; // only escapes: nothing to run

    const heredocs: RawHeredoc[] = [];
    for (const header of findHeredocs(joined, where)) {
      let content = '';
      let terminated = false;
      while (i < physical.length) {
        const bodyLine = physical[i] ?? '';
        i++;
        const candidate = header.chomp ? trimNewline(bodyLine).replace(/^\t+/, '') : trimNewline(bodyLine);
        if (candidate === header.name) {
          terminated = true;
          break;
        }
        content += bodyLine;
      }
      if (!terminated) fail(where, 'unterminated heredoc', `the heredoc <<${header.name} needs a line containing only ${header.name}`);
      heredocs.push({ ...header, content });
    }
    lines.push({ at: where.at, endLine: i, text: joined, source: untrimmed.trimEnd(), heredocs });
  }
  return { directives, escape, lines };
}

function parseDirective(parser: DirectiveParser, token: string, where: Where): { name: string; value: string } | undefined {
  try {
    return parser.parseLine(token);
  } catch (err) {
    if (err instanceof DirectiveError) fail(where, err.message);
    throw err;
  }
}

function escapeOf(value: string, where: Where): '\\' | '`' {
  if (value === '\\' || value === '`') return value;
  return fail(where, `invalid escape token '${value}' does not match \` or \\`, 'use # escape=\\ (the default) or # escape=`');
}

function findHeredocs(line: string, where: Where): HeredocHeader[] {
  try {
    return heredocsInLine(line);
  } catch (err) {
    return fail(where, `invalid heredoc: ${err instanceof Error ? err.message : String(err)}`, undefined, err);
  }
}

/**
 * BuildKit's line-continuation expression for escape `e`: `e` as the last non-blank character,
 * unless it is itself escaped (`foo \\` does not continue).
 */
function continuationRegExp(escape: string): RegExp {
  const e = escape === '\\' ? '\\\\' : escape;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Removes a continuation marker; the boolean says whether the instruction ends on this line. */
function trimContinuation(line: string, continuation: RegExp): [string, boolean] {
  if (!continuation.test(line)) return [line, true];
  return [line.replace(continuation, '$1'), false];
}

/** Go's `bytes.TrimRight(line, "\r\n")`. */
function trimNewline(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === '\n' || line[end - 1] === '\r')) end--;
  return line.slice(0, end);
}

/** A comment line: `#` as its first non-blank character. */
function isComment(line: string): boolean {
  let k = 0;
  while (k < line.length && isSpace(line[k])) k++;
  return line[k] === '#';
}
