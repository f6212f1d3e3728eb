/**
 * Docker's shell lexer for Dockerfile words, a port of BuildKit's
 * `frontend/dockerfile/shell/lex.go`: `$V`, `${V}`, `${V:-x}` `${V-x}` `${V:+x}` `${V+x}`
 * `${V:?msg}` `${V?msg}`, `${V#p}` `${V##p}` `${V%p}` `${V%%p}`, `${V/p/r}` `${V//p/r}`,
 * single quotes (literal), double quotes (expansion inside), and the escape character (`\`, or
 * `` ` `` under `# escape=`` ` ``). It is not a shell: no command substitution, no globbing, no
 * arithmetic. Kaniko vendors the same lexer, so its expansion results are the reference.
 */
import { PatternError, replacePattern, trimPrefix, trimSuffix } from './shell-pattern.js';
import { Words } from './shell-words.js';

/** Variables in scope; `undefined` (or absent) means unset, `''` means set and empty. */
export type ShellEnv = Readonly<Record<string, string | undefined>>;

/** An expansion that cannot be done; the caller wraps it into a DockerfileError with a location. */
export class ShellExpansionError extends Error {}

/** Lexer switches, as BuildKit's `Lex` fields. */
export interface LexOptions {
  /** `\` (default) or `` ` ``, from the `# escape=` directive. */
  escape?: string;
  /** Keep quote characters in the output (used to detect quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to ''. */
  skipUnsetEnv?: boolean;
}

/** The expanded text and its split into words (split on unquoted, unescaped whitespace). */
export interface LexResult {
  result: string;
  words: string[];
}

/** Expands variables and removes quotes and escapes, keeping whitespace (BuildKit `ProcessWord`). */
export function expandWord(word: string, env: ShellEnv, escape = '\\'): string {
  return lex(word, env, { escape }).result;
}

/**
 * Expands, then splits into words on whitespace that is neither quoted nor escaped, including
 * whitespace that came from a variable's value (BuildKit `ProcessWords`). Empty words vanish, so
 * `""` gives no word at all, as in Docker.
 */
export function expandWords(text: string, env: ShellEnv, escape = '\\'): string[] {
  return lex(text, env, { escape }).words;
}

/** The lexer with all switches; {@link expandWord} and {@link expandWords} are the usual entry points. */
export function lex(text: string, env: ShellEnv, options: LexOptions = {}): LexResult {
  const escape = options.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') throw new ShellExpansionError(`invalid escape character ${JSON.stringify(escape)}`);
  const sw = new ShellWord(Array.from(text), env, {
    escape,
    rawQuotes: options.rawQuotes ?? false,
    rawEscapes: options.rawEscapes ?? false,
    skipUnsetEnv: options.skipUnsetEnv ?? false,
  });
  return sw.processStopOn(undefined, options.rawEscapes ?? false);
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

class ShellWord {
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    private readonly chars: readonly string[],
    private readonly env: ShellEnv,
    private readonly opts: Required<LexOptions>,
  ) {
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  /** Processes up to `stop` (consumed) or the end of input when `stop` is undefined. */
  processStopOn(stop: string | undefined, rawEscapes: boolean): LexResult {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.processLoop(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processLoop(stop: string | undefined): LexResult {
    let result = '';
    const words = new Words();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return { result, words: words.finish() };
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result += tmp;
        words.addString(tmp); // whitespace inside a variable's value splits words
      } else if (ch === "'" || ch === '"') {
        const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else {
        let c = this.next() ?? '';
        if (c === this.opts.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const escaped = this.next();
          if (escaped === undefined) break; // a trailing escape is dropped
          c = escaped;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
    }
    if (stop !== undefined) throw new ShellExpansionError(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.finish() };
  }

  /** `'…'`: everything literal; a single quote cannot be escaped inside. */
  private processSingleQuote(): string {
    let result = '';
    const open = this.next() ?? '';
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ShellExpansionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  /** `"…"`: `$` expands; the escape character escapes only `"`, `$` and itself (as sh does). */
  private processDoubleQuote(): string {
    let result = '';
    const open = this.next() ?? '';
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const peeked = this.peek();
      if (peeked === undefined) throw new ShellExpansionError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        this.next();
        if (this.opts.rawQuotes) result += peeked;
        return result;
      }
      if (peeked === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() ?? '';
      if (ch === this.opts.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === undefined) continue; // the loop then reports the missing quote
        if (after === '"' || after === '$' || after === this.opts.escape) ch = this.next() ?? '';
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next(); // '$'
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next(); // '{'
    const first = this.peek();
    if (first === undefined) throw new ShellExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellExpansionError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === undefined) throw new ShellExpansionError("syntax error: missing '}'");
    let modifier = ch;
    if (ch === '}') {
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      if (ch === undefined) throw new ShellExpansionError("syntax error: missing '}'");
      modifier += ch;
    }
    if (!'+-?#%'.includes(ch)) {
      throw new ShellExpansionError(`unsupported modifier (${modifier}) in substitution`);
    }
    // Patterns keep their escapes so that `\*` stays a literal star.
    const word = this.stopOnOrMissing('}', ch === '#' || ch === '%', "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : (value ?? '');
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new ShellExpansionError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new ShellExpansionError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // '#'/'%' remove the shortest match, '##'/'%%' the longest.
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        try {
          return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
        } catch (err) {
          throw this.patternError(pattern, err);
        }
      }
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`, after the first `/`. */
  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.stopOnOrMissing('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.stopOnOrMissing('}', true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
    try {
      // Go's ReplaceAllString would also expand `$1`-style references in the replacement; the
      // patterns have no groups, so Kiln keeps the replacement literal as bash does.
      return replacePattern(value ?? '', pattern, replacement, all);
    } catch (err) {
      throw this.patternError(pattern, err);
    }
  }

  private stopOnOrMissing(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (this.peek() === undefined) throw new ShellExpansionError(missing, { cause: err });
      throw err;
    }
  }

  private patternError(pattern: string, err: unknown): ShellExpansionError {
    if (err instanceof PatternError) return new ShellExpansionError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
    return err instanceof ShellExpansionError ? err : new ShellExpansionError(String(err));
  }

  /** A name: letters, digits, `_`; or all digits (`$1`); or one special parameter (`$@`, `$#`…). */
  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && DIGIT.test(ch)) {
        while (this.peek() !== undefined && DIGIT.test(this.peek() ?? '')) name += this.next() ?? '';
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) {
        this.next();
        return ch;
      }
      if (!LETTER.test(ch) && !DIGIT.test(ch) && ch !== '_') break;
      name += this.next() ?? '';
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.env, name) ? this.env[name] : undefined;
  }
}
