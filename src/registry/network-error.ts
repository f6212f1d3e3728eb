/**
 * Classifies failures below HTTP (connect, DNS, TLS, resets) into the words of an error message,
 * whether the failure is transient, and whether it happened at the TLS layer (where an
 * insecure registry may fall back to plain HTTP, as go-containerregistry's ping does).
 */
import { errnoCode } from '../errors.js';
import type { NetworkTimeouts } from './types.js';

/** A network-level failure, described. */
export interface NetworkFailure {
  /** e.g. `connection refused`. */
  reason: string;
  /** Worth retrying for an idempotent request (resets, timeouts). */
  retryable: boolean;
  /** Failed during the TLS handshake (wrong protocol, untrusted certificate). */
  tls: boolean;
  /** How the user may fix it, for `RegistryError.hint`. */
  hint?: string;
}

const SIMPLE: Record<string, { reason: string; retryable: boolean }> = {
  ECONNREFUSED: { reason: 'connection refused', retryable: false },
  ENOTFOUND: { reason: 'host not found (DNS lookup failed)', retryable: false },
  EAI_AGAIN: { reason: 'DNS lookup failed temporarily', retryable: true },
  EHOSTUNREACH: { reason: 'host unreachable', retryable: false },
  ENETUNREACH: { reason: 'network unreachable', retryable: false },
  ECONNRESET: { reason: 'connection reset by the registry', retryable: true },
  EPIPE: { reason: 'connection closed while sending', retryable: true },
  ECONNABORTED: { reason: 'connection aborted', retryable: true },
  ETIMEDOUT: { reason: 'connection timed out', retryable: true },
  UND_ERR_CONNECT_TIMEOUT: { reason: 'connection timed out', retryable: true },
  UND_ERR_HEADERS_TIMEOUT: { reason: 'timed out waiting for the registry to answer', retryable: true },
  UND_ERR_BODY_TIMEOUT: { reason: 'timed out reading the response', retryable: true },
  UND_ERR_SOCKET: { reason: 'connection closed unexpectedly', retryable: true },
  UND_ERR_CLOSED: { reason: 'connection closed unexpectedly', retryable: true },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { reason: 'the response ended before its Content-Length', retryable: true },
  UND_ERR_HTTP_PARSER: { reason: 'malformed HTTP response', retryable: true },
};

const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
const CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Errors nest: undici wraps, happy-eyeballs connects give AggregateError. Yields every error in the tree. */
function* errorTree(err: unknown, depth = 0): Generator<unknown> {
  if (depth > 5 || err === null || typeof err !== 'object') return;
  yield err;
  if (err instanceof AggregateError) for (const e of err.errors) yield* errorTree(e, depth + 1);
  if ('cause' in err) yield* errorTree(err.cause, depth + 1);
}

/** Whether the failure is the request's own AbortSignal firing (never retried, never wrapped). */
export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  for (const e of errorTree(err)) {
    if (e instanceof Error && e.name === 'AbortError') return true;
    if (errnoCode(e) === 'UND_ERR_ABORTED' || errnoCode(e) === 'ABORT_ERR') return true;
  }
  return false;
}

/**
 * Kiln's defaults: 30 s to connect (Go's net.Dialer default in go-containerregistry's transport,
 * which Kaniko uses), 60 s for the headers and between body chunks. A registry that accepts
 * the connection and then says nothing fails within a minute per attempt instead of five.
 */
export const DEFAULT_TIMEOUTS: NetworkTimeouts = { connectMs: 30_000, headersMs: 60_000, bodyMs: 60_000 };

/** A duration for a message: `60 s`, `1.5 s`. */
export function formatTimeout(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Which of a client's timeouts each of undici's timeout errors stands for. */
const TIMEOUT_OF: Record<string, keyof NetworkTimeouts> = {
  UND_ERR_CONNECT_TIMEOUT: 'connectMs',
  UND_ERR_HEADERS_TIMEOUT: 'headersMs',
  UND_ERR_BODY_TIMEOUT: 'bodyMs',
};

/**
 * Describes a failure below HTTP, or returns undefined when `err` is not one (a bug, an abort).
 * With the client's `timeouts`, a timeout says how long it waited.
 */
export function classifyNetworkError(err: unknown, timeouts?: NetworkTimeouts): NetworkFailure | undefined {
  for (const e of errorTree(err)) {
    const code = errnoCode(e);
    if (code === undefined) continue;
    const simple = SIMPLE[code];
    const waited = TIMEOUT_OF[code];
    if (simple && waited !== undefined && timeouts !== undefined)
      return { ...simple, reason: `${simple.reason} after ${formatTimeout(timeouts[waited])}`, tls: false };
    if (simple) return { ...simple, tls: false };
    if (NOT_TLS.has(code)) {
      return {
        reason: 'TLS handshake failed: the server does not speak TLS (plain HTTP?)',
        retryable: false,
        tls: true,
        hint: 'if this registry serves plain HTTP, allow it with --insecure-registry (or --insecure / --insecure-pull)',
      };
    }
    if (CERT.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
      const detail = e instanceof Error ? e.message.split('\n')[0] : code;
      return {
        reason: `TLS handshake failed: ${detail}`,
        retryable: false,
        tls: true,
        hint: 'trust its CA with --registry-certificate REGISTRY=/path/to/ca.pem, or skip verification with --skip-tls-verify-registry REGISTRY (--skip-tls-verify for pushes, --skip-tls-verify-pull for pulls); CA files (*.crt, *.pem) in the directories of SSL_CERT_DIR are trusted for every registry (/kaniko/ssl/certs in the image)',
      };
    }
  }
  return undefined;
}
