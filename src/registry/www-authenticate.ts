/**
 * Parsing of `WWW-Authenticate` challenges (RFC 7235 §4.1) as registries send them on 401:
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`
 * (distribution's token auth, docs/spec/auth/token.md) or `Basic realm="Registry Realm"` (htpasswd).
 * Quoted values may contain commas (`scope="repository:a:pull,push"`), and one header may carry
 * several challenges, so this is a small tokenizer rather than a split on commas.
 */

/** One challenge: the scheme lowercased, parameter names lowercased, values unquoted. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.s);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  quoted(): string {
    // quoted-string with backslash escapes (RFC 7230 §3.2.6); an unterminated one runs to the end.
    let out = '';
    this.pos++;
    while (!this.done()) {
      const c = this.peek();
      this.pos++;
      if (c === '"') return out;
      if (c === '\\' && !this.done()) {
        out += this.peek();
        this.pos++;
      } else {
        out += c;
      }
    }
    return out;
  }
}

/** Reads `name=value` at the cursor, or returns undefined (cursor unchanged) when none is there. */
function readParam(c: Cursor): [string, string] | undefined {
  const start = c.pos;
  const name = c.match(TOKEN);
  if (name === undefined) return undefined;
  c.skipSpace();
  if (c.peek() !== '=') {
    c.pos = start;
    return undefined;
  }
  c.pos++;
  c.skipSpace();
  const value = c.peek() === '"' ? c.quoted() : (c.match(TOKEN) ?? '');
  return [name.toLowerCase(), value];
}

/**
 * Parses one or more `WWW-Authenticate` header values into challenges, in order. Malformed parts
 * are skipped rather than failing: the caller decides what to do when no usable challenge is left.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    const c = new Cursor(value);
    for (;;) {
      c.skipSeparators();
      if (c.done()) break;
      const scheme = c.match(TOKEN);
      if (scheme === undefined) {
        c.pos++; // not a token: skip the character and resynchronise
        continue;
      }
      const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(ch);
      c.skipSpace();
      // `Negotiate abc==`: a token68 credential (kept under `token68`), told apart from a first
      // parameter by being followed by a comma or the end.
      const before = c.pos;
      const t68 = c.match(TOKEN68);
      if (t68 !== undefined) {
        c.skipSpace();
        if (c.done() || c.peek() === ',') {
          ch.params.token68 = t68;
          continue;
        }
        c.pos = before;
      }
      const param = readParam(c);
      if (param === undefined) continue;
      ch.params[param[0]] = param[1];
      for (;;) {
        c.skipSpace();
        if (c.peek() !== ',') break;
        const beforeComma = c.pos;
        c.skipSeparators();
        const next = readParam(c);
        if (next === undefined) {
          c.pos = beforeComma; // the next challenge starts here
          break;
        }
        ch.params[next[0]] = next[1];
      }
    }
  }
  return out;
}

/**
 * Picks the challenge Kiln can answer: Bearer before Basic (a registry offering both prefers
 * tokens), ignoring schemes such as Negotiate, as go-containerregistry's ping does.
 */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}

/** The scopes a Bearer challenge asks for (`scope` is space-separated, docs/spec/auth/scope.md). */
export function challengeScopes(ch: Challenge | undefined): string[] {
  const s = ch?.params.scope;
  return s ? s.split(' ').filter((x) => x !== '') : [];
}
