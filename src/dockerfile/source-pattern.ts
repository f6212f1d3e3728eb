/**
 * COPY/ADD source patterns: `*`, `?` and `[…]` wildcards within one path component, with Go's
 * filepath.Match rules, which the Dockerfile reference names for COPY sources.
 */

/** Whether a path component contains a wildcard. */
export function hasWildcard(component: string): boolean {
  return /[*?[]/.test(component);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One path component's glob as an anchored RegExp. */
export function componentPattern(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('^') || body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) {
      re += escapeRe(glob[++i] ?? '');
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}
