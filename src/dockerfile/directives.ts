/**
 * Parser directives (`# syntax=…`, `# escape=…`, `# check=…`), after BuildKit's DirectiveParser:
 * they are only recognised at the very top of the file; the first line that is not a known
 * directive (a blank line, any other comment, an unknown directive, an instruction) ends the
 * search, and each directive may appear once. Names are case-insensitive.
 */
import { trimLeftSpace } from './chars.js';

/** Directives Docker knows; an unknown one is an ordinary comment and ends directive parsing. */
export const KNOWN_DIRECTIVES: readonly string[] = ['syntax', 'escape', 'check'];

/** A directive found on a line. */
export interface Directive {
  name: string;
  value: string;
}

/** Raised for a repeated directive; the scanner turns it into a located DockerfileError. */
export class DirectiveError extends Error {}

// Go's `\s` is ASCII [\t\n\f\r ]; JavaScript's is wider.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;

/** Stateful per file: feed it each line (newline and leading whitespace removed) in order. */
export class DirectiveParser {
  private done = false;
  private readonly seen = new Set<string>();

  /** The directive on `line`, or undefined (and directive parsing ends) when there is none. */
  parseLine(line: string): Directive | undefined {
    if (this.done) return undefined;
    if (!line.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE.exec(trimLeftSpace(line.slice(1)));
    const name = m?.[1]?.toLowerCase();
    const value = m?.[2];
    if (name === undefined || value === undefined || !KNOWN_DIRECTIVES.includes(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new DirectiveError(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    return { name, value };
  }
}
