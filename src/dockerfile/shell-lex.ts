/**
 * Variable expansion of Dockerfile words, as the Dockerfile reference's "Environment replacement"
 * section describes it: `$NAME` and `${NAME}`, the `${NAME<operator>word}` forms of POSIX parameter
 * expansion (shell-param.ts), single quotes (everything literal), double quotes (substitution still
 * happens; the escape character protects only `"`, `$` and itself), and the escape character (`\`,
 * or `` ` `` under `# escape=`` ` ``) protecting the next character. It is not a shell: no command
 * substitution, arithmetic or globbing.
 *
 * The expander is a small recursive-descent reader over the word's code points: a word is a
 * sequence of literal characters, quoted sections and substitutions; the operand of `${…}` is
 * itself such a sequence, read up to its terminator. Output goes to a sink (shell-words.ts) that
 * keeps the string and, for {@link expandWords}, splits it into words.
 */
import { applyParamOperator, ShellExpansionError, type Operand, type ParamOperator } from './shell-param.js';
import { TextSink, WordSink, type ExpansionSink } from './shell-words.js';

export { ShellExpansionError } from './shell-param.js';

/** Variables in scope; `undefined` (or absent) means unset, `''` means set and empty. */
export type ShellEnv = Readonly<Record<string, string | undefined>>;

/** Switches of {@link lex}; the defaults give Docker's expansion. */
export interface LexOptions {
  /** `\` (default) or `` ` ``, from the `# escape=` directive. */
  escape?: string;
  /** Keep quote characters in the output (used to tell quoted heredoc delimiters apart). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to ''. */
  skipUnsetEnv?: boolean;
}

/** The expanded text and its split into words (at whitespace that is neither quoted nor escaped). */
export interface LexResult {
  result: string;
  words: string[];
}

/** Expands variables and removes quotes and escapes; whitespace is kept as it is. */
export function expandWord(word: string, env: ShellEnv, escape = '\\'): string {
  return lex(word, env, { escape }).result;
}

/**
 * Expands, then splits into words at whitespace that is neither quoted nor escaped, including
 * whitespace that came from a variable's value. Empty words vanish, so `""` gives no word at all.
 */
export function expandWords(text: string, env: ShellEnv, escape = '\\'): string[] {
  return lex(text, env, { escape }).words;
}

/** The expander with all its switches; {@link expandWord} and {@link expandWords} are the usual entry points. */
export function lex(text: string, env: ShellEnv, options: LexOptions = {}): LexResult {
  const escape = options.escape ?? '\\';
  if (escape !== '\\' && escape !== '`')
    throw new ShellExpansionError(`invalid escape character ${JSON.stringify(escape)}`);
  const expander = new Expander(text, env, {
    escape,
    rawQuotes: options.rawQuotes ?? false,
    rawEscapes: options.rawEscapes ?? false,
    skipUnsetEnv: options.skipUnsetEnv ?? false,
  });
  const sink = new WordSink();
  expander.sequence(sink, undefined, options.rawEscapes ?? false);
  return { result: sink.text, words: sink.words() };
}

/** Special parameters of the shell (`$@`, `$#`…): always unset in a Dockerfile, but they are names. */
const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!']);
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const MISSING_BRACE = "syntax error: missing '}'";

/** Reads one text; `pos` indexes code points. */
class Expander {
  private readonly chars: string[];
  private pos = 0;

  constructor(
    text: string,
    private readonly env: ShellEnv,
    private readonly opts: Required<LexOptions>,
  ) {
    this.chars = Array.from(text);
  }

  /**
   * Reads literal characters, quoted sections and substitutions up to `stop` (consumed) or the end.
   * Returns whether `stop` was found. `keepEscapes` keeps escape characters in the output (pattern
   * operands need them to tell `\*` from `*`).
   */
  sequence(sink: ExpansionSink, stop: string | undefined, keepEscapes: boolean): boolean {
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (ch === stop) {
        this.pos++;
        return true;
      }
      if (ch === '$') sink.substituted(this.dollar());
      else if (ch === "'") sink.quoted(this.singleQuoted());
      else if (ch === '"') sink.quoted(this.doubleQuoted(keepEscapes));
      else {
        this.pos++;
        if (ch !== this.opts.escape) sink.literal(ch);
        else this.escaped(sink, keepEscapes);
      }
    }
    return false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private take(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  /** After an unquoted escape character: the next character is taken literally; a trailing escape is dropped. */
  private escaped(sink: ExpansionSink, keepEscapes: boolean): void {
    if (keepEscapes) sink.quoted(this.opts.escape);
    const next = this.take();
    if (next !== undefined) sink.quoted(next);
  }

  /** `'…'`: every character literal; a single quote cannot appear inside. */
  private singleQuoted(): string {
    this.pos++;
    const start = this.pos;
    while (this.peek() !== "'") {
      if (this.take() === undefined)
        throw new ShellExpansionError('unexpected end of statement while looking for matching single-quote');
    }
    const body = this.chars.slice(start, this.pos).join('');
    this.pos++;
    return this.opts.rawQuotes ? `'${body}'` : body;
  }

  /**
   * `"…"`: substitutions happen; the escape character protects `"`, `$` and itself and is kept
   * before anything else. With `keepEscapes`, a kept escape character is doubled so that a
   * pattern reads it as a literal character.
   */
  private doubleQuoted(keepEscapes: boolean): string {
    const e = this.opts.escape;
    this.pos++;
    let out = this.opts.rawQuotes ? '"' : '';
    for (;;) {
      const ch = this.take();
      if (ch === undefined)
        throw new ShellExpansionError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') return this.opts.rawQuotes ? `${out}"` : out;
      if (ch === '$') {
        this.pos--;
        out += this.dollar();
      } else if (ch !== e) {
        out += ch;
      } else {
        const next = this.peek();
        const protects = next === '"' || next === '$' || next === e;
        if (protects) this.pos++;
        if (keepEscapes) out += protects ? e + (next ?? '') : e + e;
        else out += protects ? (next ?? '') : e;
      }
    }
  }

  /** `$NAME`, `${…}`, or a lone `$` (kept literally when no name follows). */
  private dollar(): string {
    const start = this.pos;
    this.pos++;
    if (this.peek() === '{') return this.braced(start);
    const name = this.name();
    if (name === '') return '$';
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return this.source(start);
    return value ?? '';
  }

  /** `${NAME}` or `${NAME<operator>operand}`; `start` is the position of `$`. */
  private braced(start: number): string {
    this.pos++;
    const first = this.peek();
    if (first === undefined) throw new ShellExpansionError(MISSING_BRACE);
    if (first === '{' || first === '}' || first === ':')
      throw new ShellExpansionError('syntax error: bad substitution');
    const name = this.name();
    const op = this.operator();
    const operand: Operand =
      op === undefined
        ? { word: '' }
        : op === '/' || op === '//'
          ? this.replaceOperand()
          : { word: this.operand('}', op.endsWith('#') || op.endsWith('%'), MISSING_BRACE) };
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return this.source(start);
    return op === undefined ? (value ?? '') : applyParamOperator(name, value, op, operand);
  }

  /** The operator after the name, or undefined for a plain `${NAME}` (its `}` consumed). */
  private operator(): ParamOperator | undefined {
    const ch = this.take();
    if (ch === undefined) throw new ShellExpansionError(MISSING_BRACE);
    if (ch === '}') return undefined;
    if (ch === '-' || ch === '+' || ch === '?') return ch;
    if (ch === '#' || ch === '%' || ch === '/') {
      if (this.peek() !== ch) return ch;
      this.pos++;
      return ch === '#' ? '##' : ch === '%' ? '%%' : '//';
    }
    if (ch === ':') {
      const next = this.take();
      if (next === undefined) throw new ShellExpansionError(MISSING_BRACE);
      if (next === '-' || next === '+' || next === '?') return `:${next}`;
      throw new ShellExpansionError(`unsupported modifier (:${next}) in substitution`);
    }
    throw new ShellExpansionError(`unsupported modifier (${ch}) in substitution`);
  }

  /** `pattern/replacement}` of `${NAME/…}`; both keep their escapes so that `\/` and `\*` stay literal. */
  private replaceOperand(): Operand {
    const word = this.operand('/', true, "syntax error: missing '/' in ${}");
    return { word, replacement: this.operand('}', true, MISSING_BRACE) };
  }

  /** An operand: expanded text up to the unquoted, unescaped `stop`. */
  private operand(stop: string, keepEscapes: boolean, missing: string): string {
    const sink = new TextSink();
    if (!this.sequence(sink, stop, keepEscapes)) throw new ShellExpansionError(missing);
    return sink.text;
  }

  /** A name: letters, digits and `_` not starting with a digit; or a run of digits; or one special parameter. */
  private name(): string {
    const first = this.peek();
    if (first === undefined) return '';
    if (SPECIAL_PARAMETERS.has(first)) {
      this.pos++;
      return first;
    }
    const start = this.pos;
    const inName = DIGIT.test(first)
      ? (c: string) => DIGIT.test(c)
      : (c: string) => LETTER.test(c) || DIGIT.test(c) || c === '_';
    for (let c = this.peek(); c !== undefined && inName(c); c = this.peek()) this.pos++;
    return this.chars.slice(start, this.pos).join('');
  }

  private lookup(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.env, name) ? this.env[name] : undefined;
  }

  /** The source text from `start` to the current position, for references left as written. */
  private source(start: number): string {
    return this.chars.slice(start, this.pos).join('');
  }
}
