/**
 * Shell wildcard patterns of `${V#p}`, `${V%p}` and `${V/p/r}`, after BuildKit's
 * `convertShellPatternToRegex` (POSIX pattern matching without bracket expressions): `*` is any
 * string, `?` one character, `\*` `\?` `\\` are literal, and `\}` `\/` are the escaped
 * terminators of `${…}`.
 */

/** A pattern that cannot be compiled, e.g. `\x` (only `\*`, `\?`, `\\` are escapes). */
export class PatternError extends Error {}

const REGEX_SPECIALS = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** Compiles a shell pattern; `greedy` picks `*` as longest (`##`, `%%`, `/`) or shortest match. */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  // Go's `.` does not match a newline; neither does this class.
  const anyChar = '[^\\n]';
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i] ?? '';
    if (tok === '*') {
      out += greedy ? `${anyChar}*` : `${anyChar}*?`;
    } else if (tok === '?') {
      out += anyChar;
    } else if (tok === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue; // the escape is not part of the pattern
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new PatternError(`invalid escape '\\${next ?? ''}'`);
      }
      out += `\\${next}`;
      i++;
    } else if (REGEX_SPECIALS.has(tok)) {
      out += `\\${tok}`;
    } else {
      out += tok;
    }
  }
  return new RegExp(out, 'u');
}

/** `${value#pattern}` / `${value##pattern}`: removes the shortest/longest matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/**
 * `${value%pattern}` / `${value%%pattern}`: removes the shortest/longest matching suffix. Regular
 * expressions find leftmost matches only, so (as BuildKit does) both sides are reversed.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** `${value/pattern/replacement}` (first match) and `${value//pattern/replacement}` (all). */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = shellPatternToRegExp(pattern, true, false);
  if (all) return value.replace(new RegExp(re.source, 'gu'), () => replacement);
  const m = re.exec(value);
  return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
}

/** Reverses code points. */
export function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/** Reverses a pattern keeping each escape pair in order (`a\*c` → `c\*a`). */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length).fill('');
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i] ?? '';
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = chars[i + 1] ?? '';
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}
