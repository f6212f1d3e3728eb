/**
 * google-auth-library's failures in Kiln's words (google-auth.ts): a token endpoint's refusal
 * (a GaxiosError with the OAuth2 `error` and `error_description` of its answer, or the
 * library's OAuthError copy of it for STS), a network failure or timeout under it, or a
 * credentials file the library cannot use. One line, redacted, never a stack trace.
 */
import { classifyNetworkError, formatTimeout } from '../network-error.js';
import type { Redactor } from '../redact.js';
import { brief, CloudError } from './http.js';

/** What a GaxiosError (or the library's copy of one) carries. */
interface GaxiosLike {
  message?: unknown;
  status?: unknown;
  config?: { url?: unknown };
  response?: { status?: unknown; data?: unknown };
}

/** `error: error_description` of an OAuth2 error answer (parsed JSON, or text when it was not). */
function oauthDetail(data: unknown): string {
  const o = (typeof data === 'object' && data !== null ? data : {}) as { error?: unknown; error_description?: unknown };
  return [o.error, o.error_description].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
}

/** Whether a timeout (the Gaxios deadline's AbortSignal) is anywhere in the error's causes. */
function timedOut(err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; cause?: unknown };
  if (e.name === 'TimeoutError' || e.code === 'TimeoutError') return true;
  return timedOut(e.cause, depth + 1);
}

/** The endpoint a request went to, without its query (which may hold a token). */
function endpoint(url: unknown): string | undefined {
  if (!(url instanceof URL) && typeof url !== 'string') return undefined;
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/** The {@link CloudError} for a failure of google-auth-library getting a token from `source`. */
export function describeGoogleFailure(err: unknown, source: string, redactor: Redactor, timeoutMs: number): CloudError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as GaxiosLike;
  const status = typeof e.response?.status === 'number' ? e.response.status : undefined;
  const at = endpoint(e.config?.url);
  const what = at !== undefined ? `Google's endpoint ${at}` : 'Google';
  if (status !== undefined) {
    const detail = oauthDetail(e.response?.data);
    const said = `${status}${detail ? ` ${brief(detail, redactor)}` : ''}`;
    const refused = status === 400 || status === 401 || status === 403;
    return new CloudError(
      refused ? `Google rejected the credentials from ${source} (${said})` : `${what} answered ${said} for ${source}`,
      refused ? 'refused' : 'answer',
      status,
    );
  }
  if (at !== undefined) {
    if (timedOut(err))
      return new CloudError(`timed out after ${formatTimeout(timeoutMs)} waiting for ${what} (${source})`, 'network');
    const net = classifyNetworkError(err);
    if (net !== undefined) return new CloudError(`could not reach ${what} (${source}): ${net.reason}`, 'network');
  }
  // The library refused the file itself (a missing field, a subject token file it cannot read).
  const message = err instanceof Error ? err.message : String(err);
  return new CloudError(`${source}: ${brief(message, redactor)}`, at !== undefined ? 'network' : 'setup');
}
