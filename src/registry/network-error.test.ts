import { expect, test } from 'vitest';
import { classifyNetworkError, isAbort } from './network-error.js';

function sysErr(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

test.each([
  ['ECONNREFUSED', 'connection refused', false, false],
  ['ENOTFOUND', 'host not found (DNS lookup failed)', false, false],
  ['ECONNRESET', 'connection reset by the registry', true, false],
  ['UND_ERR_SOCKET', 'connection closed unexpectedly', true, false],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS handshake failed: the server does not speak TLS (plain HTTP?)', false, true],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS handshake failed: DEPTH_ZERO_SELF_SIGNED_CERT', false, true],
])('%s', (code, reason, retryable, tls) => {
  expect(classifyNetworkError(sysErr(code))).toMatchObject({ reason, retryable, tls });
});

test('looks into causes and AggregateErrors (happy eyeballs)', () => {
  const agg = new AggregateError([sysErr('ECONNREFUSED'), sysErr('ECONNREFUSED')], 'connect failed');
  expect(classifyNetworkError(new Error('fetch failed', { cause: agg }))?.reason).toBe('connection refused');
});

test('not a network error', () => {
  expect(classifyNetworkError(new TypeError('bug'))).toBeUndefined();
});

test('aborts are recognised', () => {
  const e = new Error('aborted');
  e.name = 'AbortError';
  expect(isAbort(e)).toBe(true);
  expect(isAbort(sysErr('UND_ERR_ABORTED'))).toBe(true);
  expect(isAbort(sysErr('ECONNRESET'))).toBe(false);
});

test.each([
  ['UND_ERR_CONNECT_TIMEOUT', 'connection timed out after 30 s'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timed out waiting for the registry to answer after 60 s'],
  ['UND_ERR_BODY_TIMEOUT', 'timed out reading the response after 1.5 s'],
])('%s with the client timeouts says how long it waited, and is retryable', (code, reason) => {
  const f = classifyNetworkError(sysErr(code), { connectMs: 30_000, headersMs: 60_000, bodyMs: 1500 });
  expect(f).toMatchObject({ reason, retryable: true, tls: false });
  expect(classifyNetworkError(sysErr(code))?.reason).toBe(reason.replace(/ after .*$/, ''));
});
