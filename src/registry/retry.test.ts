import { expect, test, vi } from 'vitest';
import { backoffMs, isRetryableStatus, parseRetryAfter, RetryLater, RETRY_AFTER_MAX_MS, withRetries } from './retry.js';

test.each([
  [408, true],
  [429, true],
  [500, true],
  [502, true],
  [503, true],
  [504, true],
  [400, false],
  [401, false],
  [404, false],
  [501, false],
])('status %i retryable: %s', (status, expected) => {
  expect(isRetryableStatus(status)).toBe(expected);
});

test('backoff doubles and is capped', () => {
  expect([0, 1, 2, 3, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 30_000]);
});

test.each([
  ['7', 7000],
  [' 0 ', 0],
  ['100000', RETRY_AFTER_MAX_MS],
  ['Wed, 21 Oct 2015 07:28:10 GMT', 10_000],
  ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
  ['soon', undefined],
  ['', undefined],
  [undefined, undefined],
])('Retry-After %j → %j ms', (value, expected) => {
  expect(parseRetryAfter(value, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(expected);
});

test('withRetries sleeps the requested or computed time and stops at the limit', async () => {
  const sleep = vi.fn(async (_ms: number) => {});
  let calls = 0;
  const canRetrySeen: boolean[] = [];
  const out = await withRetries({ retries: 3, sleep }, async (canRetry) => {
    canRetrySeen.push(canRetry);
    calls++;
    if (calls === 1) return new RetryLater('429', 5000);
    if (calls === 2) return new RetryLater('reset');
    return 'ok';
  });
  expect(out).toBe('ok');
  expect(sleep.mock.calls.map((c) => c[0])).toEqual([5000, 2000]);
  expect(canRetrySeen).toEqual([true, true, true]);
});

test('withRetries tells the last attempt it cannot retry', async () => {
  const seen: boolean[] = [];
  await expect(
    withRetries({ retries: 1, sleep: async () => {} }, async (canRetry) => {
      seen.push(canRetry);
      if (canRetry) return new RetryLater('x');
      throw new Error('final');
    }),
  ).rejects.toThrow('final');
  expect(seen).toEqual([true, false]);
});

test('withRetries stops when the signal aborts', async () => {
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await expect(
    withRetries({ retries: 3, sleep: async () => {}, signal: ac.signal }, async () => new RetryLater('x')),
  ).rejects.toThrow('stop');
});

test('withRetries numbers the attempts, so that a final error can say how many were made', async () => {
  const seen: [boolean, number][] = [];
  const err = await withRetries({ retries: 2, sleep: async () => {} }, async (canRetry, n) => {
    seen.push([canRetry, n]);
    if (canRetry) return new RetryLater('timed out');
    throw new Error(`timed out (${n + 1} attempts)`);
  }).catch((e: unknown) => e);
  expect(seen).toEqual([
    [true, 0],
    [true, 1],
    [false, 2],
  ]);
  expect(String(err)).toContain('(3 attempts)');
});
