/**
 * Parser directives, as the Dockerfile reference ("Parser directives") defines them: comments of
 * the form `# name=value` at the very top of the file. Names are case-insensitive and whitespace
 * around `=` is allowed. Once any other line has been seen — an instruction, an empty line, an
 * ordinary comment, or a directive Docker does not know, which "is treated as a comment" — no
 * further directive is recognised. Each directive may be given only once.
 */
import { trimLeftSpace } from './chars.js';

/** Directives Docker knows; an unknown one is an ordinary comment and ends the directive section. */
export const KNOWN_DIRECTIVES: readonly string[] = ['syntax', 'escape', 'check'];

/** A directive found on a line, its name lower-cased. */
export interface Directive {
  name: string;
  value: string;
}

/** A repeated directive; the caller turns it into a located DockerfileError. */
export class DirectiveError extends Error {}

// Name, '=', value; only ASCII blanks count around them.
const SHAPE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.*?)[\t\n\f\r ]*$/;

/** Reads the directive section of one file; give it each line in order, newline removed. */
export class DirectiveParser {
  private open = true;
  private readonly seen = new Set<string>();

  /** The directive on `line`; undefined (and the directive section is over) when there is none. */
  parseLine(line: string): Directive | undefined {
    if (!this.open) return undefined;
    const directive = this.recognise(trimLeftSpace(line));
    if (directive === undefined) {
      this.open = false;
      return undefined;
    }
    if (this.seen.has(directive.name))
      throw new DirectiveError(`only one ${directive.name} parser directive can be used`);
    this.seen.add(directive.name);
    return directive;
  }

  private recognise(line: string): Directive | undefined {
    if (!line.startsWith('#')) return undefined;
    const match = SHAPE.exec(trimLeftSpace(line.slice(1)));
    const name = match?.[1]?.toLowerCase();
    const value = match?.[2];
    if (name === undefined || value === undefined || value === '' || !KNOWN_DIRECTIVES.includes(name)) return undefined;
    return { name, value };
  }
}
