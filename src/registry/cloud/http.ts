/**
 * The one HTTP call the built-in credential helpers make (ECR, STS, Google's token endpoints and
 * metadata server, Azure AD, ACR's exchange), through undici with a deadline on the whole
 * exchange, and the error they throw: it names the service asked and what went wrong, and is
 * redacted of every secret the helper holds (a cloud may echo a token back in an error body).
 */
import { Agent, request, type Dispatcher } from 'undici';
import { classifyNetworkError, formatTimeout } from '../network-error.js';
import { Redactor } from '../redact.js';
import { withRoots } from '../trust.js';

/** Why a built-in helper could not get a credential. `refused` marks a cloud that rejected what it was sent. */
export class CloudError extends Error {
  constructor(
    message: string,
    /** `none`: no credentials of any kind were found, which a helper answers as "credentials not found" (anonymous). */
    readonly kind: 'refused' | 'network' | 'answer' | 'setup' | 'none',
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One request: `what` names the service in messages (`the GCE metadata server at http://…`). */
export interface CloudRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  what: string;
}

/** An answer read to the end. */
export interface CloudResponse {
  status: number;
  text: string;
}

/** Sends a {@link CloudRequest}; injectable, so unit tests need no server. */
export type CloudFetch = (req: CloudRequest) => Promise<CloudResponse>;

const BODY_CAP = 1024 * 1024;

/**
 * The real fetch: undici, `timeoutMs` for the whole exchange (connect, headers and body). TLS is
 * verified against Node's roots plus `trustedCas` (the build's SSL_CERT_DIR files, registry/trust.ts),
 * as the Go helpers in Kaniko's image verify against the system pool plus /kaniko/ssl/certs.
 */
export function undiciCloudFetch(timeoutMs: number, trustedCas: readonly string[] = []): CloudFetch {
  const ca = withRoots(trustedCas);
  const dispatcher: Dispatcher | undefined = ca !== undefined ? new Agent({ connect: { ca } }) : undefined;
  return async (req) => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(req.url, {
        method: req.method,
        headers: { 'user-agent': 'kiln', ...req.headers },
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(dispatcher !== undefined ? { dispatcher } : {}),
      });
      let text = '';
      for await (const chunk of res.body) {
        if (text.length < BODY_CAP) text += Buffer.from(chunk as Uint8Array).toString('utf8');
      }
      return { status: res.statusCode, text };
    } catch (err) {
      if (signal.aborted)
        throw new CloudError(`timed out after ${formatTimeout(timeoutMs)} waiting for ${req.what}`, 'network');
      const failure = classifyNetworkError(err);
      const why = failure?.reason ?? (err instanceof Error ? err.message : String(err));
      throw new CloudError(`could not reach ${req.what}: ${why}`, 'network');
    }
  };
}

/** A fetch whose errors and answers never carry `secrets` (tokens, keys, JWTs). */
export function redactingFetch(fetch: CloudFetch, redactor: Redactor): CloudFetch {
  return async (req) => {
    try {
      return await fetch(req);
    } catch (err) {
      if (err instanceof CloudError) throw new CloudError(redactor.apply(err.message), err.kind, err.status);
      throw err;
    }
  };
}

/** Parses a JSON answer, or throws a CloudError naming the service (never quoting the body, which may hold a token). */
export function jsonOf(res: CloudResponse, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(res.text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw new CloudError(`${what} answered ${res.status} with a body that is not a JSON object`, 'answer', res.status);
}

/** A string field of a JSON answer, or a CloudError naming the field. */
export function stringField(json: Record<string, unknown>, field: string, what: string): string {
  const v = json[field];
  if (typeof v !== 'string' || v === '') throw new CloudError(`${what} answered without "${field}"`, 'answer');
  return v;
}

/** The first 200 characters of an error text from a cloud, redacted, on one line. */
export function brief(text: string, redactor: Redactor): string {
  return redactor.apply(text.replace(/\s+/g, ' ').trim()).slice(0, 200);
}
