/**
 * Retry policy for registry requests: which failures are transient, how long to wait, and the
 * loop itself. Mirrors go-containerregistry's defaults (retry 408, 429, 500, 502, 503, 504 and
 * connection resets on idempotent requests, exponential backoff) and honours `Retry-After`
 * (RFC 9110 §10.2.3) on 429 and 503 as Docker Hub's rate limiting expects.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { SleepFn } from './types.js';

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Whether an HTTP status is worth retrying for an idempotent request. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** First wait, doubled per attempt, and the caps on computed and server-requested waits. */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;
export const RETRY_AFTER_MAX_MS = 120_000;

/** Wait before retry number `attempt` (0-based): 1 s, 2 s, 4 s, … capped at 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** attempt, BACKOFF_MAX_MS);
}

/**
 * Parses `Retry-After`: delay-seconds or an HTTP-date. Returns milliseconds (capped), or undefined
 * when absent or malformed.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  let ms: number;
  if (/^\d+$/.test(t)) {
    ms = Number(t) * 1000;
  } else {
    const at = Date.parse(t);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/** Returned by an attempt to ask for another try, after `ms` or the computed backoff. */
export class RetryLater {
  constructor(
    readonly reason: string,
    readonly ms?: number,
  ) {}
}

/** A real timer that rejects when the signal aborts. */
export const realSleep: SleepFn = async (ms, signal) => {
  await delay(ms, undefined, signal ? { signal } : undefined);
};

/**
 * Runs `attempt` until it returns a value, at most `retries + 1` times. `attempt` receives whether
 * another try is allowed and its own number (0 for the first); when no other try is allowed, it
 * must throw its real error instead of returning {@link RetryLater}. A timeout (connect, headers,
 * body idle) is one more transient failure here: retried like a reset, with the same backoff.
 */
export async function withRetries<T>(
  opts: {
    retries: number;
    sleep: SleepFn;
    signal?: AbortSignal;
    onRetry?: (reason: string, waitMs: number, attempt: number) => void;
  },
  attempt: (canRetry: boolean, n: number) => Promise<T | RetryLater>,
): Promise<T> {
  for (let n = 0; ; n++) {
    const r = await attempt(n < opts.retries, n);
    if (!(r instanceof RetryLater)) return r;
    if (n >= opts.retries) throw new Error(`internal: retry requested after the last attempt (${r.reason})`);
    const wait = r.ms ?? backoffMs(n);
    opts.onRetry?.(r.reason, wait, n + 1);
    opts.signal?.throwIfAborted();
    await opts.sleep(wait, opts.signal);
  }
}
