/**
 * Word splitting while the shell lexer builds its result, after BuildKit's `wordsStruct`:
 * unquoted whitespace (including whitespace that came from a variable's value) ends a word;
 * quoted and escaped text is added raw; empty words are never emitted.
 */
import { isSpace } from './chars.js';

/** Accumulates the words of one lexer pass. */
export class Words {
  private word = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.words;
  }
}
