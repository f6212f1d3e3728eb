/**
 * Path patterns as `.dockerignore` files and `COPY --exclude` use them, implemented from Docker's
 * documentation ("Dockerignore files"; Dockerfile reference, `COPY --exclude`):
 *
 * - a pattern is trimmed and cleaned lexically as Go's `filepath.Clean` cleans a path; leading
 *   and trailing slashes do not matter (the context root is both the working and the root
 *   directory), and a pattern that cleans to `.` or `/` is ignored;
 * - the wildcards are those of Go's `filepath.Match`: `*` is any run of characters other than
 *   `/`, `?` one such character, `[…]` a class (`[^…]` negated, `lo-hi` ranges; like Go's, a
 *   class is not barred from matching `/`), and `\` makes the next character literal;
 * - `**` as a whole component stands for any number of directories, zero included; as the last
 *   component it stands for everything inside the directory before it; a run of two or more `*`
 *   within a component matches any characters, `/` included (so `**.pyc` finds `.pyc` files at
 *   any depth);
 * - a pattern matching a directory matches everything below it;
 * - `!pattern` is an exception, and the last pattern that applies to a path decides.
 *
 * A pattern compiles to one matcher per component; a path is matched component by component,
 * backtracking over how many components each `**` takes.
 */

/** A pattern list that cannot be compiled (`!` alone, an unterminated class, a trailing escape). */
export class PatternSyntaxError extends Error {}

/** Lexical cleaning as Go's `path.Clean`: no empty, `.` or resolvable `..` components, no trailing slash. */
export function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const kept: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') kept.push(part);
    else if (kept.length > 0 && kept[kept.length - 1] !== '..') kept.pop();
    else if (!rooted) kept.push('..'); // `..` above the root of a rooted path is the root
  }
  const body = kept.join('/');
  if (rooted) return `/${body}`;
  return body === '' ? '.' : body;
}

/** One character-level element of a component. */
type Atom =
  | { kind: 'char'; ch: string }
  | { kind: 'any' }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> }
  | { kind: 'star'; crossing: boolean };

/** One component of a compiled pattern. */
type Component =
  /** `**` on its own: any number of whole path components. */
  | { kind: 'dirs' }
  /** Anything else: one path component, or several when it holds a `**` or a class that may match `/`. */
  | { kind: 'glob'; atoms: Atom[]; crossing: boolean; literal: string | undefined };

const syntaxError = (pattern: string, why: string): PatternSyntaxError =>
  new PatternSyntaxError(`syntax error in pattern "${pattern}": ${why}`);

/** Reads a class starting just after its `[`; returns the atom and the index after its `]`. */
function readClass(cs: readonly string[], start: number, pattern: string): { atom: Atom; next: number } {
  let i = start;
  const negated = cs[i] === '^';
  if (negated) i++;
  const ranges: Array<[number, number]> = [];
  const member = (): number => {
    let ch = cs[i++];
    if (ch === '\\') ch = cs[i++];
    if (ch === undefined) throw syntaxError(pattern, 'unterminated [');
    return ch.codePointAt(0) ?? 0;
  };
  // A `]` right after `[` or `[^` is a member, not the end of an empty class.
  for (let first = true; first || cs[i] !== ']'; first = false) {
    if (cs[i] === undefined) throw syntaxError(pattern, 'unterminated [');
    const lo = member();
    let hi = lo;
    if (cs[i] === '-' && cs[i + 1] !== undefined && cs[i + 1] !== ']') {
      i++;
      hi = member();
      if (hi < lo) throw syntaxError(pattern, 'reversed range in [');
    }
    ranges.push([lo, hi]);
  }
  return { atom: { kind: 'class', negated, ranges }, next: i + 1 };
}

/** Splits a cleaned pattern at the slashes outside classes (`a[/]b` is one component). */
function splitComponents(pattern: string): string[] {
  const parts: string[] = [];
  let current = '';
  let state: 'out' | 'open' | 'in' = 'out'; // `open`: right after `[` or `[^`, where `]` is a member
  const cs = [...pattern];
  for (let i = 0; i < cs.length; i++) {
    const ch = cs[i] ?? '';
    if (ch === '\\') {
      current += ch + (cs[++i] ?? '');
      if (state === 'open') state = 'in';
      continue;
    }
    if (state === 'out' && ch === '/') {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
    if (state === 'out' && ch === '[') {
      state = 'open';
      if (cs[i + 1] === '^') current += cs[++i] ?? '';
    } else if (state === 'open') state = 'in';
    else if (state === 'in' && ch === ']') state = 'out';
  }
  parts.push(current);
  return parts;
}

/** Whether a class atom may match `/`. */
const admitsSlash = (atom: Atom): boolean =>
  atom.kind === 'class' && atom.ranges.some(([lo, hi]) => lo <= 0x2f && hi >= 0x2f) !== atom.negated;

/** Compiles one component (between slashes) of a cleaned pattern. */
function compileComponent(text: string, pattern: string): Component {
  if (text === '**') return { kind: 'dirs' };
  const cs = [...text];
  const atoms: Atom[] = [];
  for (let i = 0; i < cs.length;) {
    const ch = cs[i] ?? '';
    if (ch === '*') {
      let end = i;
      while (cs[end] === '*') end++;
      atoms.push({ kind: 'star', crossing: end - i > 1 });
      i = end;
    } else if (ch === '?') {
      atoms.push({ kind: 'any' });
      i++;
    } else if (ch === '[') {
      const { atom, next } = readClass(cs, i + 1, pattern);
      atoms.push(atom);
      i = next;
    } else if (ch === '\\') {
      const escaped = cs[i + 1];
      if (escaped === undefined) throw syntaxError(pattern, 'trailing \\');
      atoms.push({ kind: 'char', ch: escaped });
      i += 2;
    } else {
      atoms.push({ kind: 'char', ch });
      i++;
    }
  }
  const literal = atoms.every((a) => a.kind === 'char')
    ? atoms.map((a) => (a.kind === 'char' ? a.ch : '')).join('')
    : undefined;
  return {
    kind: 'glob',
    atoms,
    crossing: atoms.some((a) => (a.kind === 'star' && a.crossing) || admitsSlash(a)),
    literal,
  };
}

/** Whether one character satisfies a non-star atom (`?` never matches `/`). */
function matchOne(atom: Exclude<Atom, { kind: 'star' }>, ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  switch (atom.kind) {
    case 'char':
      return atom.ch === ch;
    case 'any':
      return ch !== '/';
    case 'class':
      return atom.ranges.some(([lo, hi]) => cp >= lo && cp <= hi) !== atom.negated;
  }
}

/** Whether `atoms` match all of `text`; stars backtrack, remembering the positions that failed. */
function matchAtoms(atoms: readonly Atom[], text: string): boolean {
  const cs = [...text];
  const failed = new Set<number>();
  const run = (a: number, c: number): boolean => {
    let atom = atoms[a];
    while (atom !== undefined && atom.kind !== 'star') {
      const ch = cs[c++];
      if (ch === undefined || !matchOne(atom, ch)) return false;
      atom = atoms[++a];
    }
    if (atom === undefined) return c === cs.length;
    const key = a * (cs.length + 1) + c;
    if (failed.has(key)) return false;
    for (let end = c; end <= cs.length; end++) {
      if (run(a + 1, end)) return true;
      if (cs[end] === '/' && !atom.crossing) break; // a single `*` stops at a slash
    }
    failed.add(key);
    return false;
  };
  return run(0, 0);
}

/** One compiled pattern, tested against slash-separated paths relative to the pattern's root. */
export class Pattern {
  /** The pattern after cleaning, without its `!`. */
  readonly cleaned: string;
  /** `!pattern`: an exception. */
  readonly exclusion: boolean;
  /** The cleaned pattern's components, as written. */
  readonly dirs: string[];
  private readonly components: Component[];

  /** Compiles an already cleaned pattern; throws {@link PatternSyntaxError} when it is malformed. */
  constructor(cleaned: string, exclusion: boolean) {
    this.cleaned = cleaned;
    this.exclusion = exclusion;
    this.dirs = splitComponents(cleaned);
    this.components = this.dirs.map((d) => compileComponent(d, cleaned));
  }

  /** Whether `path` itself (not its ancestors) matches. */
  match(path: string): boolean {
    return this.matchParts(path.split('/'), false);
  }

  /** Whether `path` or one of its ancestor directories matches. */
  covers(path: string): boolean {
    return this.matchParts(path.split('/'), true);
  }

  /** Whether the pattern holds a wildcard (an escaped character is not one). */
  get hasWildcards(): boolean {
    return this.components.some((c) => c.kind === 'dirs' || c.literal === undefined);
  }

  /**
   * Whether the pattern might match a path strictly inside directory `dir`. Exact for the
   * components the pattern names literally; from its first wildcard component on, it answers yes.
   */
  mayMatchInside(dir: string): boolean {
    const parts = dir.split('/');
    for (const [i, comp] of this.components.entries()) {
      if (i === parts.length) return true;
      if (comp.kind === 'dirs' || comp.literal === undefined) return true;
      if (comp.literal !== parts[i]) return false;
    }
    return false;
  }

  /** Matches path components; with `orAncestor`, leftover trailing components are allowed. */
  private matchParts(parts: readonly string[], orAncestor: boolean): boolean {
    const comps = this.components;
    const failed = new Set<number>();
    const run = (p: number, s: number): boolean => {
      const comp = comps[p];
      if (comp === undefined) return s === parts.length || (orAncestor && s > 0);
      const key = p * (parts.length + 1) + s;
      if (failed.has(key)) return false;
      if (comp.kind === 'dirs') {
        // As the last component `**` needs something to stand for: `dir/**` is what is inside `dir`.
        const least = p === comps.length - 1 ? 1 : 0;
        for (let end = s + least; end <= parts.length; end++) if (run(p + 1, end)) return true;
      } else {
        const most = comp.crossing ? parts.length : Math.min(s + 1, parts.length);
        for (let end = s + 1; end <= most; end++) {
          if (matchAtoms(comp.atoms, parts.slice(s, end).join('/')) && run(p + 1, end)) return true;
        }
      }
      failed.add(key);
      return false;
    };
    return run(0, 0);
  }
}

/** An ordered list of patterns, as in a `.dockerignore` or the `--exclude` flags of one COPY. */
export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** Whether any pattern is an exception (`!…`). */
  readonly hasExclusions: boolean;

  /**
   * Compiles `patterns` in order: each is trimmed (and so is the text after a `!`), cleaned and
   * made relative; blank ones and those naming the root are skipped. Throws
   * {@link PatternSyntaxError} for `!` alone or a malformed pattern.
   */
  constructor(patterns: readonly string[]) {
    const compiled: Pattern[] = [];
    for (const raw of patterns) {
      let text = raw.trim();
      if (text === '') continue;
      const exclusion = text.startsWith('!');
      if (exclusion) {
        text = text.slice(1).trim();
        if (text === '') throw new PatternSyntaxError('illegal exclusion pattern: "!"');
      }
      const cleaned = cleanPath(text).replace(/^\/+/, '');
      if (cleaned === '' || cleaned === '.') continue;
      compiled.push(new Pattern(cleaned, exclusion));
    }
    this.patterns = compiled;
    this.hasExclusions = compiled.some((p) => p.exclusion);
  }

  /**
   * Whether `file` (slash-separated, relative) is matched by the list: a pattern applies to a
   * path when it matches the path or one of its ancestors, and the last pattern that applies
   * decides (an exception un-matches).
   */
  matches(file: string): boolean {
    let matched = false;
    for (const pattern of this.patterns) {
      // Only an exclusion can change an unmatched path, only an exception a matched one.
      if (pattern.exclusion === matched && pattern.covers(file)) matched = !pattern.exclusion;
    }
    return matched;
  }
}
