/**
 * The one redirect policy of Kiln's HTTP requests: blob GETs a registry sends to storage and
 * `ADD <url>` downloads. Up to 10 redirects are followed, as Go's http.Client (which
 * go-containerregistry and BuildKit's http source use) does; only to http(s) URLs; and never
 * from HTTPS down to plain HTTP, where the rest of the chain (and any credential riding on a
 * same-origin redirect) could be read or changed on the way. Go follows such a downgrade; we
 * do not.
 */
import { redactUrl } from './redact.js';

/** The statuses whose `Location` is followed. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** How many redirects one request follows. */
export const MAX_REDIRECTS = 10;

/** Whether a response is a redirect to follow: a redirect status with a `Location`. */
export function isRedirect(status: number, location: string | string[] | undefined): location is string {
  return REDIRECT_STATUSES.has(status) && typeof location === 'string';
}

/** Where a redirect leads, or why it is not followed (a redacted reason for a message). */
export type RedirectStep = { url: URL } | { refused: string };

/**
 * The next URL after `from` answered with `location`, when `followed` redirects were followed
 * before it; a relative `location` is resolved against `from`.
 */
export function redirectTarget(from: URL, location: string, followed: number): RedirectStep {
  if (followed >= MAX_REDIRECTS) return { refused: `more than ${MAX_REDIRECTS} redirects` };
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    return { refused: `redirected to an invalid URL ${redactUrl(location)}` };
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:')
    return { refused: `redirected to unsupported URL ${redactUrl(to.href)}` };
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    return { refused: `refused a redirect from HTTPS to plain HTTP (${redactUrl(to.href)})` };
  }
  return { url: to };
}
