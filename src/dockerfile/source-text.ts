/**
 * A Dockerfile as physical lines, the unit of Docker's line rules. Docker reads the file line by
 * line at `\n`, strips a UTF-8 byte-order mark at the start, and ignores the `\r` of CRLF line
 * ends. Comment lines (`#` as the first non-blank character) and blank lines separate
 * instructions and are dropped even inside a continued instruction.
 */
import type { SourceLocation } from '../errors.js';
import { isSpace, trimLeftSpace } from './chars.js';
import type { Where } from './located.js';

/** The lines of one Dockerfile; indexes are 0-based. */
export class SourceText {
  /** Each line as written, line terminator included (heredoc bodies keep it). */
  readonly raw: readonly string[];
  /** Each line without its terminator. */
  readonly lines: readonly string[];

  constructor(
    text: string,
    readonly file: string,
  ) {
    const body = text.startsWith('\ufeff') ? text.slice(1) : text;
    this.raw = body === '' ? [] : body.split(/(?<=\n)/);
    this.lines = this.raw.map((l) => l.replace(/[\r\n]+$/, ''));
  }

  get count(): number {
    return this.lines.length;
  }

  /** Line `i` without its terminator ('' past the end). */
  line(i: number): string {
    return this.lines[i] ?? '';
  }

  /** Whether line `i` is a comment: `#` is its first non-blank character. */
  isComment(i: number): boolean {
    return trimLeftSpace(this.line(i)).startsWith('#');
  }

  /** Whether line `i` has nothing but whitespace. */
  isBlank(i: number): boolean {
    return trimLeftSpace(this.line(i)) === '';
  }

  /** Whether line `i` can start an instruction: neither blank nor a comment. */
  isContent(i: number): boolean {
    return !this.isBlank(i) && !this.isComment(i);
  }

  /** The first content line at or after `from`, or undefined at the end of the file. */
  nextContent(from: number): number | undefined {
    for (let i = from; i < this.count; i++) if (this.isContent(i)) return i;
    return undefined;
  }

  /** The last content line in `[from, to]`, or `from` when there is none. */
  lastContent(from: number, to: number): number {
    for (let i = Math.min(to, this.count - 1); i > from; i--) if (this.isContent(i)) return i;
    return from;
  }

  /** Where line `i` is: its first non-blank character (1-based column) and the line as written. */
  where(i: number, column?: number): Where {
    const text = this.line(i);
    let first = 0;
    while (first < text.length && isSpace(text[first])) first++;
    const at: SourceLocation = { file: this.file, line: i + 1, column: column ?? first + 1 };
    return { at, source: text.trimEnd() };
  }
}
