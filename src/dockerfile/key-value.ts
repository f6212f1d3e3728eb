/**
 * The arguments of ENV, LABEL and ARG (Dockerfile reference: `ENV <key>=<value> ...`, the legacy
 * `ENV <key> <value>`, `LABEL <key>=<value> ...`, `ARG <name>[=<default value>] ...`). Pairs are
 * separated by whitespace outside quotes; quotes and escapes are KEPT in the words, because Docker
 * removes them only when it expands a value (`expandWord` in shell-lex.ts does both at once):
 * `ENV A="x y"` has the raw value `"x y"`, which expands to `x y`.
 */
import type { KeyValue } from './instructions.js';
import { isSpace, splitFirstWord } from './chars.js';

/**
 * Splits at whitespace outside quotes, keeping quotes and escapes in the words. Inside single
 * quotes nothing is special; elsewhere the escape character protects the next character (a quote
 * included). A trailing escape character is dropped.
 */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < chars.length && isSpace(chars[pos])) pos++;
    if (pos === chars.length) return words;
    const [word, end] = readWord(chars, pos, escape);
    words.push(word);
    pos = end;
  }
}

/** One word from `start` (not a space) to the first whitespace outside quotes, as written. */
function readWord(chars: readonly string[], start: number, escape: string): [string, number] {
  let word = '';
  let quote: string | undefined;
  let pos = start;
  for (; pos < chars.length; pos++) {
    const ch = chars[pos] ?? '';
    if (quote === undefined && isSpace(ch)) break;
    if (ch === escape && quote !== "'") {
      const next = chars[pos + 1];
      if (next === undefined) return [word, chars.length]; // a trailing escape is dropped
      word += ch + next;
      pos++;
      continue;
    }
    if (quote === undefined && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = undefined;
    word += ch;
  }
  return [word, pos];
}

/** Why ENV, LABEL or ARG arguments were rejected; the caller adds the location. */
export class KeyValueError extends Error {}

/**
 * ENV and LABEL: `K=V K2="v 2"` pairs, or the legacy `K value with spaces` form (chosen when the
 * first word has no `=`), whose value is the raw rest of the line.
 */
export function parseKeyValues(rest: string, kind: 'ENV' | 'LABEL', escape: string): KeyValue[] {
  const words = parseWords(rest, escape);
  const first = words[0];
  if (first === undefined) throw new KeyValueError(`${kind} requires at least one argument`);
  const pairs = first.includes('=') ? words.map(pairOf) : [legacyPair(rest, kind)];
  if (pairs.some((p) => p.key === '')) throw new KeyValueError(`${kind} names can not be blank`);
  return pairs;
}

function pairOf(word: string): KeyValue {
  const eq = word.indexOf('=');
  if (eq < 0)
    throw new KeyValueError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
  return { key: word.slice(0, eq), value: word.slice(eq + 1) };
}

function legacyPair(rest: string, kind: 'ENV' | 'LABEL'): KeyValue {
  const [key, value] = splitFirstWord(rest);
  if (value === undefined) throw new KeyValueError(`${kind} must have two arguments`);
  return { key, value };
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
