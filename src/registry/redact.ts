/**
 * Keeping secrets out of messages and logs (ARCHITECTURE.md §6: credentials redacted everywhere).
 * Kiln never builds a message from a credential on purpose; this is the safety net for text that
 * comes from elsewhere (a registry echoing a header, a URL with userinfo or a signed query).
 */
import { Buffer } from 'node:buffer';

/** Shown in place of a secret. */
export const REDACTED = '***';

/** Secrets shorter than this are not searched for: replacing every "ab" would garble messages. */
const MIN_SECRET = 4;

/**
 * A per-client set of secrets (passwords, tokens and their Basic-auth encodings) that
 * {@link Redactor.apply} replaces with `***` wherever they occur.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Remembers a secret; `undefined` and short strings are ignored. */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_SECRET) this.secrets.add(secret);
  }

  /** Remembers a username/password pair, including its `Basic` header encoding. */
  addBasic(username: string, password: string): void {
    this.add(password);
    this.add(Buffer.from(`${username}:${password}`).toString('base64'));
  }

  /** `text` with every known secret replaced, and URLs stripped of userinfo and query values. */
  apply(text: string): string {
    let out = text;
    // Longest first, so that a secret containing another is replaced whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
    return redactUrls(out);
  }
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/**
 * Redacts one URL: drops `user:password@` and replaces every query value (pre-signed blob
 * storage URLs carry their signature there, e.g. `X-Amz-Signature`). Unparseable input is
 * returned with only userinfo removed.
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username !== '' || u.password !== '') {
      u.username = '';
      u.password = '';
    }
    if (u.search !== '') {
      const names = [...new URLSearchParams(u.search).keys()];
      return `${u.origin}${u.pathname}?${names.map((n) => `${n}=${REDACTED}`).join('&')}${u.hash}`;
    }
    return u.toString();
  } catch {
    return raw.replace(/\/\/[^/@\s]*@/, '//');
  }
}

/** Applies {@link redactUrl} to every URL inside free text. */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (m) => redactUrl(m));
}
