/**
 * Kaniko's whole-operation retries (`--push-retry`, `--image-download-retry`): an operation made
 * of many requests (a push, resolving an image) is tried again from the start after a failure
 * that may clear up, once the requests' own retries are spent. One loop for both, so their
 * semantics cannot drift apart.
 */
import { isRetryableFailure } from './failure.js';
import { RetryLater, withRetries } from './retry.js';
import type { SleepFn } from './types.js';

/** How often and how long to wait, and what to say before each new try. */
export interface OperationRetries {
  /** Tries after the first (0: the operation runs once). */
  retries: number;
  /** Waits between tries: 1 s, 2 s, 4 s… or the registry's Retry-After. */
  sleep: SleepFn;
  signal?: AbortSignal | undefined;
  /** Called before each wait, with the failure's message, the wait and the try's number (from 1). */
  onRetry: (reason: string, waitMs: number, attempt: number) => void;
  /** A failure that retrying will not help although the registry called it transient. */
  isFinal?: (err: unknown) => boolean;
}

/**
 * Runs `operation`, again from the start after a retryable registry failure
 * ({@link isRetryableFailure}), honouring a Retry-After the failure carries. Anything else, an
 * abort, or the last try's failure is thrown as it is.
 */
export function retryOperation<T>(opts: OperationRetries, operation: () => Promise<T>): Promise<T> {
  const { signal } = opts;
  return withRetries(
    { retries: opts.retries, sleep: opts.sleep, ...(signal ? { signal } : {}), onRetry: opts.onRetry },
    async (canRetry) => {
      try {
        return await operation();
      } catch (err) {
        if (!canRetry || signal?.aborted || opts.isFinal?.(err) === true || !isRetryableFailure(err)) throw err;
        const after = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : undefined;
        return new RetryLater(err.message, after);
      }
    },
  );
}
