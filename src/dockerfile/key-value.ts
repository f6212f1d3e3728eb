/**
 * ENV, LABEL and ARG arguments, after BuildKit's `parseWords`, `parseNameVal` and
 * `parseNameOrNameVal`. Values are returned RAW — quotes and escapes as written — because Docker
 * removes them only when it expands the value (`expandWord` in shell-lex.ts does both at once):
 * `ENV A="x y"` gives the raw value `"x y"`, which expands to `x y`.
 */
import type { KeyValue } from './instructions.js';
import { isSpace, splitFirstWord } from './chars.js';

/**
 * Splits on unquoted whitespace, keeping quotes and escapes in the words. Inside single quotes
 * nothing is special; elsewhere the escape character protects the next character.
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (atEnd) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // a trailing escape is dropped
        // An unquoted escape keeps itself and the next character, even a quote.
        word += ch;
        ch = chars[++pos] ?? '';
      }
      word += ch;
      continue;
    }
    // phase === 'quote'
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++pos] ?? '';
    }
    word += ch;
  }
  return words;
}

/** Why ENV/LABEL arguments were rejected; the caller adds the location. */
export class KeyValueError extends Error {}

/**
 * ENV and LABEL: `K=V K2="v 2"` pairs, or the legacy `K value with spaces` form (chosen when the
 * first word has no `=`), whose value is the raw rest of the line.
 */
export function parseKeyValues(rest: string, kind: 'ENV' | 'LABEL', escape: string): KeyValue[] {
  const words = parseWords(rest, escape);
  const first = words[0];
  if (first === undefined) throw new KeyValueError(`${kind} requires at least one argument`);
  let pairs: KeyValue[];
  if (!first.includes('=')) {
    const [key, value] = splitFirstWord(rest);
    if (value === undefined) throw new KeyValueError(`${kind} must have two arguments`);
    pairs = [{ key, value }];
  } else {
    pairs = words.map((word) => {
      const eq = word.indexOf('=');
      if (eq < 0) throw new KeyValueError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
      return { key: word.slice(0, eq), value: word.slice(eq + 1) };
    });
  }
  if (pairs.some((p) => p.key === '')) throw new KeyValueError(`${kind} names can not be blank`);
  return pairs;
}

/** ARG: `NAME` or `NAME=default` words; the default stays raw like ENV values. */
export function parseArgs(rest: string, escape: string): { name: string; defaultValue?: string }[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) throw new KeyValueError('ARG requires at least one argument');
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) return { name: word };
    if (eq === 0) throw new KeyValueError('ARG names can not be blank');
    return { name: word.slice(0, eq), defaultValue: word.slice(eq + 1) };
  });
}
