/**
 * The patterns of `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}` and `${V//p/r}` (POSIX
 * "Pattern Matching Notation", the subset Docker supports: no bracket expressions). `*` matches any
 * string and `?` any one character — neither matches a newline in Docker, so neither does Kiln —
 * `\*`, `\?` and `\\` stand for the character itself, and `\}` and `\/` are the escaped terminators
 * of `${…}`. Any other escape is an error, as in Docker.
 *
 * A pattern becomes a regular expression. "Shortest" and "longest" match (`#` and `##`) map to lazy
 * and greedy stars; a suffix (`%`, `%%`) is matched as a prefix of the reversed value with the
 * reversed pattern, since regular expressions only search from the left.
 */

/** A pattern that cannot be used, e.g. one containing `\x`. */
export class PatternError extends Error {}

/** Characters that mean something in a regular expression and must be escaped to be literal. */
const REGEXP_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|']);
/** Characters a backslash may protect in a pattern. */
const ESCAPABLE = new Set(['*', '?', '\\', '}', '/']);
/** Any one character but a newline. */
const ANY = '[^\\n]';

/** One unit of a pattern: a wildcard or a literal character (escaped or not). */
type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string; escaped: boolean };

function tokenize(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (ch === '*') tokens.push({ kind: 'star' });
    else if (ch === '?') tokens.push({ kind: 'any' });
    else if (ch !== '\\') tokens.push({ kind: 'char', ch, escaped: false });
    else {
      const next = chars[i + 1];
      if (next === undefined || !ESCAPABLE.has(next)) throw new PatternError(`invalid escape '\\${next ?? ''}'`);
      tokens.push({ kind: 'char', ch: next, escaped: true });
      i++;
    }
  }
  return tokens;
}

/**
 * Compiles a pattern. `greedy` makes `*` match as much as possible (longest match), otherwise as
 * little as possible; `anchored` ties the match to the start of the value.
 */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const parts = tokenize(pattern).map((t) => {
    if (t.kind === 'star') return greedy ? `${ANY}*` : `${ANY}*?`;
    if (t.kind === 'any') return ANY;
    return REGEXP_SYNTAX.has(t.ch) ? `\\${t.ch}` : t.ch;
  });
  return new RegExp((anchored ? '^' : '') + parts.join(''), 'u');
}

/** `${value#pattern}` (shortest) or `${value##pattern}` (longest): removes a matching prefix. */
export function trimPrefix(pattern: string, value: string, longest: boolean): string {
  const match = shellPatternToRegExp(pattern, longest, true).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** `${value%pattern}` (shortest) or `${value%%pattern}` (longest): removes a matching suffix. */
export function trimSuffix(pattern: string, value: string, longest: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), longest));
}

/** `${value/pattern/replacement}` (first, longest match) or with `//` every match; the replacement is literal. */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = shellPatternToRegExp(pattern, true, false);
  if (all) return value.replace(new RegExp(re.source, 'gu'), () => replacement);
  return value.replace(re, () => replacement);
}

/** Reverses a string by code points. */
export function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/**
 * Reverses a pattern unit by unit, so that an escape stays in front of the character it protects
 * (`a\*c` → `c\*a`). A lone backslash at the end stays a unit of its own.
 */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const units: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    const next = chars[i + 1];
    if (ch === '\\' && next !== undefined) {
      units.push(ch + next);
      i++;
    } else {
      units.push(ch);
    }
  }
  return units.reverse().join('');
}
