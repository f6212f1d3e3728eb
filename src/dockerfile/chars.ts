/**
 * Character classes shared by the Dockerfile scanner, the flag splitter and the shell lexer.
 * BuildKit is written in Go, so "space" means Go's `unicode.IsSpace`, not JavaScript's `\s`
 * (which also matches U+FEFF and misses U+0085).
 */

const EXTRA_SPACES = new Set(['\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000']);

/** Go's `unicode.IsSpace`: ASCII whitespace, NEL, NBSP and the Unicode space separators. */
export function isSpace(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\v' || ch === '\f' || ch === '\r') return true;
  if (EXTRA_SPACES.has(ch)) return true;
  return ch >= '\u2000' && ch <= '\u200a';
}

/** Go's `strings.TrimSpace` with {@link isSpace}. */
export function trimSpace(s: string): string {
  return trimLeftSpace(trimRightSpace(s));
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return s.slice(i);
}

/** Go's `strings.TrimRightFunc(s, unicode.IsSpace)`. */
export function trimRightSpace(s: string): string {
  let j = s.length;
  while (j > 0 && isSpace(s[j - 1])) j--;
  return s.slice(0, j);
}

/**
 * BuildKit's `reWhitespace` (`[\t\v\f\r ]+`): the separator of instruction keywords and of the
 * whitespace-delimited argument lists (FROM, EXPOSE, shell-form COPY/ADD/VOLUME). Quotes are NOT
 * honoured here; Docker splits these forms on whitespace only and strips quotes when expanding.
 */
export const WHITESPACE_RUN = /[\t\v\f\r ]+/;

/** `reWhitespace.Split(s, -1)` on an already trimmed string; the empty string gives no words. */
export function splitOnWhitespace(s: string): string[] {
  return s === '' ? [] : s.split(WHITESPACE_RUN);
}

/** `reWhitespace.Split(s, 2)`: the first word and the untouched remainder (undefined when there is none). */
export function splitFirstWord(s: string): [string, string | undefined] {
  const m = WHITESPACE_RUN.exec(s);
  if (!m) return [s, undefined];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}
