/**
 * One signed GET of an object in a cloud store (S3, GCS, Azure Blob: issue 14's bucket contexts)
 * over the registry client's HTTP layer ({@link Transport}: connect, header and body-idle
 * timeouts, TLS verified against the system CAs and the build's). Unlike `fetchStream` (ADD
 * <url>) it sends the caller's headers — a signature or a bearer token — and follows no redirect,
 * so they never reach another host; a refusal's body is read (capped) for the store's error code
 * (`NoSuchKey`, `AuthenticationFailed`). The object's body is handed over as a stream.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { readAtMost } from '../body.js';
import { handOverBody, requestFailureReason } from '../http-fetch.js';
import { DEFAULT_TIMEOUTS, isAbort } from '../network-error.js';
import type { Redactor } from '../redact.js';
import { Transport } from '../transport.js';
import type { NetworkTimeouts } from '../types.js';

/** Why a GET failed: `status` and the store's `code` for a refusal; neither for a network failure. */
export class ObjectGetFailed extends Error {
  constructor(
    message: string,
    readonly extra: { status?: number; code?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }
}

/** A bucket object that could not be opened, worded for the user; the executor names the context before it. */
export class BucketFailure extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Options of {@link getObject}. */
export interface ObjectGetOptions {
  signal: AbortSignal;
  timeouts?: NetworkTimeouts;
  trustedCas?: readonly string[];
  userAgent?: string;
  /** Every secret the headers hold is in it: no message may show one. */
  redactor: Redactor;
}

/** The error code and message of a refusal: S3's and Azure's XML `<Code>`, GCS's JSON `error.message`. */
export function storeError(body: string): { code?: string; detail?: string } {
  const xml = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]?.trim();
  const code = xml('Code');
  if (code !== undefined) {
    const detail = xml('Message')?.split('\n')[0];
    return { code, ...(detail && detail !== code ? { detail } : {}) };
  }
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown; errors?: { reason?: unknown }[] } };
    const reason = j.error?.errors?.[0]?.reason;
    const message = j.error?.message;
    return {
      ...(typeof reason === 'string' ? { code: reason } : {}),
      ...(typeof message === 'string' && message !== reason ? { detail: message } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * GETs `url` with `headers`; resolves with the body of a 2xx answer, rejects with an
 * {@link ObjectGetFailed} (redacted) for a network failure, a timeout or any other status.
 */
export async function getObject(url: URL, headers: Record<string, string>, o: ObjectGetOptions): Promise<Readable> {
  const t = o.timeouts ?? DEFAULT_TIMEOUTS;
  const transport = new Transport({ skipVerify: () => false, ...(o.trustedCas ? { trusted: o.trustedCas } : {}) }, t);
  const close = (): void => void transport.close().catch(() => undefined);
  let res: Dispatcher.ResponseData;
  try {
    res = await transport.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { 'user-agent': o.userAgent ?? 'kiln', ...headers },
      signal: o.signal,
    });
  } catch (err) {
    close();
    if (isAbort(err, o.signal)) throw err;
    throw new ObjectGetFailed(requestFailureReason(err, t, o.redactor).reason, { cause: err });
  }
  if (res.statusCode >= 200 && res.statusCode <= 299)
    return handOverBody(res.body, t, o.redactor, close, (reason, _timedOut, cause) => {
      return new ObjectGetFailed(`downloading: ${reason}`, { cause });
    });
  let text = '';
  try {
    text = (await readAtMost(res.body, 16 * 1024)).bytes.toString('utf8');
  } catch {
    // The status says enough.
  } finally {
    close();
  }
  const { code, detail } = storeError(text);
  const said = `${res.statusCode}${code ? ` ${code}` : ''}`;
  throw new ObjectGetFailed(o.redactor.apply(said), {
    status: res.statusCode,
    ...(code ? { code } : {}),
    ...(detail ? { detail: o.redactor.apply(detail).slice(0, 200) } : {}),
  });
}
