/**
 * Character classes of Dockerfile text. Docker's "whitespace" is Unicode's: ASCII blanks, NEL
 * (U+0085), no-break space and the Unicode space separators. JavaScript's `\s` differs (it
 * includes U+FEFF and misses U+0085), so it is not used for Dockerfile text.
 */

const OTHER_SPACES = new Set(['\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000']);

/** Whether `ch` is whitespace in Docker's sense. */
export function isSpace(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  if (ch === ' ' || (ch >= '\t' && ch <= '\r')) return true;
  return OTHER_SPACES.has(ch) || (ch >= '\u2000' && ch <= '\u200a');
}

/** `s` without leading and trailing whitespace. */
export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}

/** `s` without leading whitespace. */
export function trimLeftSpace(s: string): string {
  let start = 0;
  while (start < s.length && isSpace(s[start])) start++;
  return s.slice(start);
}

/** `s` without trailing whitespace. */
export function trimRightSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1])) end--;
  return s.slice(0, end);
}

/**
 * The separator of an instruction's keyword and of Docker's whitespace-separated argument lists
 * (FROM, EXPOSE, shell-form COPY/ADD/VOLUME): runs of space, tab, CR, VT and FF. Quotes do not
 * group here; Docker removes them later, when it expands each word.
 */
export const WHITESPACE_RUN = /[\t\v\f\r ]+/;

/** The words of an already trimmed string, split at {@link WHITESPACE_RUN}; '' has no words. */
export function splitOnWhitespace(s: string): string[] {
  return s === '' ? [] : s.split(WHITESPACE_RUN);
}

/** The first word of `s` and everything after the whitespace that follows it (undefined when nothing follows). */
export function splitFirstWord(s: string): [string, string | undefined] {
  const gap = WHITESPACE_RUN.exec(s);
  if (!gap) return [s, undefined];
  return [s.slice(0, gap.index), s.slice(gap.index + gap[0].length)];
}
