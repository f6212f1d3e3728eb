/**
 * One GET of an arbitrary http(s) URL — `ADD <url>` — over the registry client's HTTP layer: the
 * same undici Agent set-up ({@link Transport}: connect, header and body-idle timeouts, TLS
 * verified against the system CAs), the same redirect policy (redirect.ts) and the same
 * redaction rule (redact.ts). The body is handed over as a stream, never buffered.
 */
import { Buffer } from 'node:buffer';
// The reason phrases only (`404 Not Found`); the requests go through undici.
import { STATUS_CODES } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { discard } from './body.js';
import { classifyNetworkError, DEFAULT_TIMEOUTS, formatTimeout, isAbort } from './network-error.js';
import { Redactor } from './redact.js';
import { isRedirect, redirectTarget } from './redirect.js';
import { Transport } from './transport.js';
import type { NetworkTimeouts } from './types.js';

/**
 * A fetch that failed to start, or (as the body's error) broke while being read. Its message is
 * redacted. `status` is the HTTP status of a refused request; `timedOut` marks a connect, header
 * or body-idle timeout — with resets (see `cause`), what a retry may cure.
 */
export class FetchFailed extends Error {
  constructor(
    message: string,
    readonly extra: { status?: number; timedOut?: boolean; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }
}

/** An open response: read `body` to the end, or destroy it. */
export interface FetchedStream {
  body: Readable;
  /** `Last-Modified`, when the server sent a valid one. */
  lastModified?: Date;
  /** `Content-Length`, when sent (undici fails a body that ends short of it). */
  size?: number;
  /** The URL that finally answered, after redirects. */
  url: URL;
}

/** Options of {@link fetchStream}. */
export interface FetchOptions {
  signal: AbortSignal;
  /** Default: the registry client's (30 s to connect, 60 s for headers and between body chunks). */
  timeouts?: NetworkTimeouts;
  /** Default `kiln`. */
  userAgent?: string;
  /** CA certificates (PEM) trusted besides Node's roots: the build's SSL_CERT_DIR files (trust.ts). */
  trustedCas?: readonly string[];
}

/** A percent-encoded userinfo part, decoded; a stray `%` (which URL parsing lets through) stays as it is. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `user:password@` of a URL, as Basic credentials (as Go's http.Client and node:http send them). */
function basicAuth(url: URL, redactor: Redactor): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const user = decoded(url.username);
  const password = decoded(url.password);
  redactor.add(url.password);
  redactor.addBasic(user, password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** How {@link requestFailure} words a failure: the timeouts in force, the redactor, the request's signal. */
interface RequestFailureOptions {
  timeouts: NetworkTimeouts;
  redactor: Redactor;
  signal: AbortSignal;
}

/**
 * Why a request failed before any status (a connect or header timeout, a network error), worded
 * for a message and redacted, and whether it was a timeout. Shared with bucket/get.ts.
 */
export function requestFailureReason(
  err: unknown,
  t: NetworkTimeouts,
  redactor: Redactor,
): { reason: string; timedOut: boolean } {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return { reason: `could not connect within ${formatTimeout(t.connectMs)}`, timedOut: true };
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return { reason: `no response within ${formatTimeout(t.headersMs)}`, timedOut: true };
  const reason = classifyNetworkError(err)?.reason ?? (err instanceof Error ? err.message : String(err));
  return { reason: redactor.apply(reason), timedOut: false };
}

/** A failure of the request itself (before any status) as a {@link FetchFailed}; an abort or a bug as itself. */
function requestFailure(err: unknown, what: string, opts: RequestFailureOptions): unknown {
  const { timeouts: t, redactor, signal } = opts;
  if (isAbort(err, signal)) return err;
  const { reason, timedOut } = requestFailureReason(err, t, redactor);
  // `what` names the request already redacted; a timeout's reason holds nothing to redact.
  if (timedOut) return new FetchFailed(`${what}: ${reason}`, { timedOut, cause: err });
  return new FetchFailed(redactor.apply(`${what}: ${reason}`), { cause: err });
}

/**
 * The response body as handed to the caller: undici's errors become the caller's errors (`fail`,
 * given `no data for 60 s` when the server goes quiet; undici's body timer does not run while the
 * reader applies backpressure, so a slow reader never counts as a stalled server), and the
 * Agent is closed once the body is done. Shared with bucket/get.ts.
 */
export function handOverBody(
  body: Readable,
  t: NetworkTimeouts,
  redactor: Redactor,
  done: () => void,
  fail: (reason: string, timedOut: boolean, cause: Error) => Error,
): Readable {
  const out = new PassThrough();
  body.once('error', (err: Error) => {
    if (isAbort(err)) return void out.destroy(err);
    const timedOut = (err as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT';
    const reason = timedOut
      ? `no data for ${formatTimeout(t.bodyMs)}`
      : redactor.apply(classifyNetworkError(err)?.reason ?? err.message);
    out.destroy(fail(reason, timedOut, err));
  });
  // A reader that gives up early releases the connection.
  out.once('close', () => {
    body.destroy();
    done();
  });
  body.pipe(out);
  return out;
}

function headersOf(res: Dispatcher.ResponseData): { lastModified?: Date; size?: number } {
  const modified = res.headers['last-modified'];
  const lastModified = typeof modified === 'string' ? new Date(modified) : undefined;
  const length = Number(res.headers['content-length']);
  return {
    ...(lastModified !== undefined && !Number.isNaN(lastModified.getTime()) ? { lastModified } : {}),
    ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
  };
}

/**
 * GETs `url`, following redirects by the shared policy; rejects with a {@link FetchFailed}
 * (redacted) for a failed request, a refused redirect or a non-2xx answer. Userinfo in the URL
 * is sent as Basic credentials to that URL's origin only.
 */
export async function fetchStream(url: URL, o: FetchOptions): Promise<FetchedStream> {
  const t = o.timeouts ?? DEFAULT_TIMEOUTS;
  // Never bound to a registry, so every host is verified against the system CAs and the build's.
  const transport = new Transport({ skipVerify: () => false, ...(o.trustedCas ? { trusted: o.trustedCas } : {}) }, t);
  const close = (): void => void transport.close().catch(() => undefined);
  const redactor = new Redactor();
  const what = (u: URL): string => redactor.apply(`GET ${u.href}`);
  let current = url;
  try {
    for (let followed = 0; ; followed++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:')
        throw new FetchFailed(`${what(url)}: unsupported URL scheme`);
      const authorization = basicAuth(current, redactor);
      let res: Dispatcher.ResponseData;
      try {
        res = await transport.agent.request({
          origin: current.origin,
          path: `${current.pathname}${current.search}`,
          method: 'GET',
          headers: {
            'user-agent': o.userAgent ?? 'kiln',
            accept: '*/*',
            ...(authorization !== undefined ? { authorization } : {}),
          },
          signal: o.signal,
        });
      } catch (err) {
        throw requestFailure(err, what(current), { timeouts: t, redactor, signal: o.signal });
      }
      const status = res.statusCode;
      const location = res.headers.location;
      if (isRedirect(status, location)) {
        await discard(res.body);
        const next = redirectTarget(current, location, followed);
        if ('refused' in next) throw new FetchFailed(`${what(url)}: ${next.refused}`);
        current = next.url;
        continue;
      }
      if (status < 200 || status > 299) {
        await discard(res.body);
        throw new FetchFailed(`${what(current)}: ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd(), { status });
      }
      const body = handOverBody(
        res.body,
        t,
        redactor,
        close,
        (reason, timedOut, cause) => new FetchFailed(reason, { timedOut, cause }),
      );
      return { body, url: current, ...headersOf(res) };
    }
  } catch (err) {
    close();
    throw err;
  }
}
