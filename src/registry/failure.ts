/**
 * Turning failed requests into {@link RegistryError}s whose first line says what was being done
 * and why (ARCHITECTURE.md §8): `pushing 127.0.0.1:5000/app:1: unauthorized (401 UNAUTHORIZED: authentication required)`,
 * `fetching manifest 127.0.0.1:1/app:1: cannot reach registry 127.0.0.1:1: connection refused`.
 * Every message and hint passes through the client's {@link Redactor}.
 */
import type { Dispatcher } from 'undici';
import { RegistryError } from '../errors.js';
import { explainAuthFailure, type AuthFacts } from './auth-failure.js';
import { discard, readAtMost, SMALL_BODY_MAX_BYTES } from './body.js';
import { describeFailure, parseErrorBody, type Subject } from './error-body.js';
import { classifyNetworkError } from './network-error.js';
import type { Redactor } from './redact.js';
import { isRetryableStatus, parseRetryAfter } from './retry.js';
import type { NetworkTimeouts } from './types.js';

/** A registry failure that may succeed when tried again (429, 5xx, a reset); `retryAfterMs` from the server if it said. */
export class TransientRegistryError extends RegistryError {
  constructor(
    message: string,
    details: RegistryError['details'],
    options: { cause?: unknown; hint?: string },
    readonly retryAfterMs?: number,
  ) {
    super(message, details, options);
  }
}

/** What a request was for, to word its failure. */
export interface FailureContext {
  /** e.g. `pushing 127.0.0.1:5000/app:1`. */
  action: string;
  registry: string;
  repository?: string;
  subject: Subject;
}

/**
 * The hint for a status. A 401 or 403 of a request that carried the registry's credentials, or
 * could have, is worded from its {@link AuthFacts} instead; without them (blob storage a registry
 * redirected to, the anonymous ping) nothing is known about credentials, and no hint blames them.
 */
function hintFor(status: number): string | undefined {
  if (status === 429) return 'the registry is rate limiting requests; retry later or log in for a higher limit';
  return undefined;
}

function build(
  message: string,
  ctx: FailureContext,
  extra: {
    status?: number;
    codes?: string[];
    cause?: unknown;
    hint?: string | undefined;
    transient: boolean;
    retryAfterMs?: number;
  },
  redactor: Redactor,
): RegistryError {
  const details: RegistryError['details'] = { registry: ctx.registry };
  if (ctx.repository !== undefined) details.repository = ctx.repository;
  if (extra.status !== undefined) details.status = extra.status;
  if (extra.codes !== undefined) details.codes = extra.codes;
  const options: { cause?: unknown; hint?: string } = {};
  if (extra.cause !== undefined) options.cause = extra.cause;
  if (extra.hint !== undefined) options.hint = redactor.apply(extra.hint);
  const text = redactor.apply(message);
  return extra.transient
    ? new TransientRegistryError(text, details, options, extra.retryAfterMs)
    : new RegistryError(text, details, options);
}

/**
 * The error for an unexpected HTTP status. Reads (at most 1 MiB of) the body for the registry's
 * error codes, and discards the rest. A 401 or 403 with `auth` says why it was refused
 * (auth-failure.ts): no credentials (and where they were looked for), credentials rejected, or
 * the token service refused.
 */
export async function responseError(
  res: Dispatcher.ResponseData,
  ctx: FailureContext,
  redactor: Redactor,
  now: number,
  auth?: AuthFacts,
): Promise<RegistryError> {
  let text = '';
  try {
    text = (await readAtMost(res.body, SMALL_BODY_MAX_BYTES)).bytes.toString('utf8');
  } catch {
    await discard(res.body);
  }
  const entries = parseErrorBody(text);
  const codes = entries.map((e) => e.code).filter((c) => c !== '');
  const status = res.statusCode;
  const retryAfter = status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after'], now) : undefined;
  const why = auth !== undefined ? explainAuthFailure(status, auth, ctx.repository) : undefined;
  return build(
    `${ctx.action}: ${describeFailure(status, entries, ctx.subject)}${why?.reason !== undefined ? `: ${why.reason}` : ''}`,
    ctx,
    {
      status,
      codes,
      hint: why !== undefined ? why.hint : hintFor(status),
      transient: isRetryableStatus(status),
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    },
    redactor,
  );
}

/** Whom {@link networkError} was talking to, and how it words the error. */
export interface NetworkErrorOptions {
  /** The registry, or a token server or blob store it sent us to. */
  host: string;
  redactor: Redactor;
  /** The timeouts in force, so that a timeout says which one. */
  timeouts?: NetworkTimeouts | undefined;
}

/**
 * The error for a failure below HTTP while talking to `opts.host`, or undefined when `err` is not
 * a network failure (a bug: rethrow it).
 */
export function networkError(err: unknown, ctx: FailureContext, opts: NetworkErrorOptions): RegistryError | undefined {
  const { host, redactor, timeouts } = opts;
  const f = classifyNetworkError(err, timeouts);
  if (f === undefined) return undefined;
  const where = host === ctx.registry ? `registry ${host}` : host;
  return build(
    `${ctx.action}: cannot reach ${where}: ${f.reason}`,
    ctx,
    { cause: err, hint: f.hint, transient: f.retryable },
    redactor,
  );
}

/** An error built from a message (a protocol violation, e.g. an upload without a Location). */
export function protocolError(
  message: string,
  ctx: FailureContext,
  redactor: Redactor,
  status?: number,
): RegistryError {
  return build(
    `${ctx.action}: ${message}`,
    ctx,
    { transient: false, ...(status !== undefined ? { status } : {}) },
    redactor,
  );
}

/**
 * Whether trying a whole operation again (Kaniko's `--push-retry`, `--image-download-retry`) may
 * help: transient failures (429, 5xx, resets, after the request's own retries) and unreachable
 * registries may clear up; a refusal (401, 403, 404, 400) or a malformed name will not.
 */
export function isRetryableFailure(err: unknown): err is RegistryError {
  if (!(err instanceof RegistryError)) return false;
  if (err instanceof TransientRegistryError) return true;
  const status = err.details.status;
  if (status !== undefined) return isRetryableStatus(status);
  return classifyNetworkError(err.cause) !== undefined;
}
