/**
 * COPY/ADD source patterns. A source's components may hold `*`, `?` and `[…]` wildcards with
 * Go's filepath.Match rules, which the Dockerfile reference names for `<src>`. With
 * `COPY --parents` a source may also use `**` for any number of directories
 * (`COPY --parents ./src/**\/*.txt /parents/`).
 */

/** Whether a path or component holds a wildcard; an escaped character is not one (BuildKit `containsWildcards`). */
export function hasWildcard(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** Escapes regexp syntax (valid under the `u` flag, where only syntax characters may be escaped). */
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The same inside a character class, where `-` is syntax too. */
const escapeInClass = (s: string): string => (s === '-' ? '\\-' : escapeRe(s));

/** One path component's filepath.Match pattern as an anchored RegExp (`[^…]` negates; `\` escapes). */
export function componentGlob(glob: string): RegExp {
  const chars = [...glob];
  let re = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < chars.length) re += escapeRe(chars[++i] ?? '');
    else if (c === '[') {
      const end = chars.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = chars.slice(i + 1, end);
      const negate = body[0] === '^';
      if (negate) body = body.slice(1);
      // Ranges keep their `-`; everything else is literal inside the class.
      const cls = body.map((ch, k) => (ch === '-' && k > 0 && k < body.length - 1 ? '-' : escapeInClass(ch))).join('');
      re += `[${negate ? '^' : ''}${cls}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

/**
 * A `--parents` source pattern over whole relative paths: components matched one by one, `**`
 * matching zero or more components. Tells a walk both what matches and where to look further.
 */
export class PathGlob {
  private readonly parts: (RegExp | '**')[];

  /** `pattern` is relative (no leading `/`), already cleaned. */
  constructor(pattern: string) {
    this.parts = pattern
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .map((p) => (p === '**' ? '**' : componentGlob(p)));
  }

  /** Whether the relative path `rel` matches the whole pattern. */
  matches(rel: string): boolean {
    return matchPath(this.parts, splitRel(rel), false);
  }

  /** Whether some path below the directory `rel` could match (so the walk must look inside). */
  mayMatchBelow(rel: string): boolean {
    return matchPath(this.parts, splitRel(rel), true);
  }
}

function splitRel(rel: string): string[] {
  return rel.split('/').filter((p) => p !== '');
}

/**
 * Whether `names` matches `parts`; with `prefix`, a path that runs out early still matches.
 * `from(i, j)` matches `names[j…]` against `parts[i…]`.
 */
function matchPath(parts: readonly (RegExp | '**')[], names: readonly string[], prefix: boolean): boolean {
  const from = (i: number, j: number): boolean => {
    if (j === names.length) return prefix ? i < parts.length : parts.slice(i).every((p) => p === '**');
    const part = parts[i];
    if (part === undefined) return false;
    if (part === '**') return from(i + 1, j) || from(i, j + 1);
    return part.test(names[j] ?? '') && from(i + 1, j + 1);
  };
  return from(0, 0);
}
