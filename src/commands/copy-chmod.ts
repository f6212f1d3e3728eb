/**
 * `--chmod` of COPY and ADD as BuildKit reads it (dockerfile2llb convert_copy.go): an octal
 * number up to 07777 sets the bits of every copied file and directory; anything else is a
 * symbolic mode in chmod(1) syntax (tonistiigi/dchapes-mode) applied to each entry's own bits —
 * `u+x,g-w`, `a=rX`, `go=u-w`, `+t`. As in that library the umask plays no part: a clause
 * without `ugoa` applies to all. PURE.
 */

/**
 * The permission bits an entry gets from its source's permission bits; `octal` when the value
 * was a number, which BuildKit also gives the destination directory a copy makes.
 */
export type ChmodFn = ((sourceMode: number, isDir: boolean) => number) & { readonly octal?: number };

/** A `--chmod` value that is neither octal nor a valid symbolic mode; the message says why. */
export class ChmodSyntaxError extends Error {}

const WHO_BITS = { u: 0o4700, g: 0o2070, o: 0o1007 } as const;
type Who = keyof typeof WHO_BITS;
const SHIFT: Record<Who, number> = { u: 6, g: 3, o: 0 };

interface Action {
  op: '+' | '-' | '=';
  /** Letters from `rwxXst`, or a class to copy from (`u`, `g`, `o`). */
  perms: string;
}

interface Clause {
  who: Who[];
  actions: Action[];
}

/** The bits `perms` stand for, for the classes in `who`, given the entry's current `mode`. */
function bitsOf(perms: string, who: readonly Who[], mode: number, isDir: boolean): number {
  if (perms === 'u' || perms === 'g' || perms === 'o') {
    const rwx = (mode >> SHIFT[perms]) & 0o7;
    return who.reduce((acc, w) => acc | (rwx << SHIFT[w]), 0);
  }
  let rwx = 0;
  let special = 0;
  for (const p of perms) {
    if (p === 'r') rwx |= 0o4;
    else if (p === 'w') rwx |= 0o2;
    else if (p === 'x') rwx |= 0o1;
    else if (p === 'X' && (isDir || (mode & 0o111) !== 0)) rwx |= 0o1;
    else if (p === 's') special |= (who.includes('u') ? 0o4000 : 0) | (who.includes('g') ? 0o2000 : 0);
    else if (p === 't') special |= who.includes('o') ? 0o1000 : 0;
  }
  return who.reduce((acc, w) => acc | (rwx << SHIFT[w]), special);
}

function parseClause(text: string, whole: string): Clause {
  const m = /^([ugoa]*)(([-+=]([ugo]|[rwxXst]*))+)$/.exec(text);
  if (!m)
    throw new ChmodSyntaxError(`invalid chmod parameter: '${whole}': "${text}" is not a symbolic mode (e.g. u+x,g-w)`);
  const whoText = m[1] ?? '';
  const who: Who[] =
    whoText === '' || whoText.includes('a')
      ? ['u', 'g', 'o']
      : [...new Set(whoText.split(''))].filter((w): w is Who => w in WHO_BITS);
  const actions = [...(m[2] ?? '').matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((a) => ({
    op: a[1] as Action['op'],
    perms: a[2] ?? '',
  }));
  return { who, actions };
}

function applyClauses(clauses: readonly Clause[], start: number, isDir: boolean): number {
  let mode = start;
  for (const { who, actions } of clauses) {
    for (const { op, perms } of actions) {
      const bits = bitsOf(perms, who, mode, isDir);
      if (op === '+') mode |= bits;
      else if (op === '-') mode &= ~bits;
      else mode = (mode & ~who.reduce((acc, w) => acc | WHO_BITS[w], 0)) | bits;
    }
  }
  return mode & 0o7777;
}

/** Parses a `--chmod` value; throws {@link ChmodSyntaxError} with BuildKit's wording for a bad one. */
export function parseChmod(value: string): ChmodFn {
  if (/^[0-7]+$/.test(value)) {
    const bits = parseInt(value, 8);
    if (bits <= 0o7777) return Object.assign(() => bits, { octal: bits });
  }
  // BuildKit keeps its old message for anything that looks numeric.
  if (/^[0-9]+$/.test(value) || value === '') {
    throw new ChmodSyntaxError(
      `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`,
    );
  }
  const clauses = value.split(',').map((c) => parseClause(c, value));
  return (mode, isDir) => applyClauses(clauses, mode, isDir);
}
