/**
 * Where the shell-word expander (shell-lex.ts) writes its output. Docker expands a word into one
 * string (ENV values, WORKDIR, USER…) or into a list of words (EXPOSE, the shell form of COPY and
 * ADD): the list splits the text at whitespace that is neither quoted nor escaped, and the value of
 * a substitution is split too, because Docker does not re-quote it (`$SPACED` with `a  b` gives two
 * words, `"$SPACED"` one). Empty words are dropped, so a lone `""` gives no word at all.
 */
import { isSpace } from './chars.js';

/** The three kinds of text the expander produces, which differ only in how they split words. */
export interface ExpansionSink {
  /** One character of the source that is neither quoted nor escaped. */
  literal(ch: string): void;
  /** Quoted text or an escaped character: whitespace in it does not split. */
  quoted(text: string): void;
  /** The value of `$NAME` or `${NAME…}`: whitespace in it splits. */
  substituted(text: string): void;
}

/** Collects only the text; used for the operand of `${NAME<op>operand}`, where words do not matter. */
export class TextSink implements ExpansionSink {
  text = '';

  literal(ch: string): void {
    this.text += ch;
  }

  quoted(text: string): void {
    this.text += text;
  }

  substituted(text: string): void {
    this.text += text;
  }
}

/** Collects the text and its split into words. */
export class WordSink implements ExpansionSink {
  text = '';
  private readonly finished: string[] = [];
  private current = '';

  literal(ch: string): void {
    this.text += ch;
    this.splitting(ch);
  }

  quoted(text: string): void {
    this.text += text;
    this.current += text;
  }

  substituted(text: string): void {
    this.text += text;
    for (const ch of text) this.splitting(ch);
  }

  /** The words so far, the one being built included. */
  words(): string[] {
    this.endWord();
    return [...this.finished];
  }

  private splitting(ch: string): void {
    if (isSpace(ch)) this.endWord();
    else this.current += ch;
  }

  private endWord(): void {
    if (this.current === '') return;
    this.finished.push(this.current);
    this.current = '';
  }
}
