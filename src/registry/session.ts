/**
 * The request core shared by every registry operation: find the registry's endpoint (scheme and
 * auth challenge, by pinging `/v2/` as go-containerregistry does), send a request with the right
 * `Authorization`, answer a fresh 401 challenge once, follow redirects to blob storage without
 * leaking credentials, retry transient failures of idempotent requests, and turn anything
 * unexpected into a worded {@link RegistryError}.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { errnoCode, RegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Authenticator } from './auth.js';
import { discard } from './body.js';
import { networkError, protocolError, responseError, TransientRegistryError, type FailureContext } from './failure.js';
import { classifyNetworkError, isAbort, type NetworkFailure } from './network-error.js';
import { redactUrl, type Redactor } from './redact.js';
import { isRedirect, redirectTarget } from './redirect.js';
import { isRetryableStatus, parseRetryAfter, RetryLater, withRetries } from './retry.js';
import { apiHost, mayUsePlainHttp, urlHostKey, type Transport } from './transport.js';
import type { NetworkTimeouts, SleepFn } from './types.js';
import { challengeScopes, parseWwwAuthenticate, pickChallenge, type Challenge } from './www-authenticate.js';

/** Where and how a registry is spoken to; `challenge` is updated when a later 401 says otherwise. */
export interface Endpoint {
  origin: string;
  challenge: Challenge | undefined;
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One logical request. */
export interface RegistryRequest {
  registry: string;
  method: Method;
  /** `/v2/…` under the registry's origin, or an absolute URL (an upload `Location`). */
  target: string;
  headers?: Record<string, string>;
  /** Bytes, or a function opening a fresh stream for every attempt. */
  body?: Uint8Array | (() => Promise<Readable>);
  /** Token scopes the request needs, e.g. `repository:app:pull`. */
  scopes: string[];
  /** Statuses handed back to the caller; any other becomes a RegistryError. */
  expect: readonly number[];
  ctx: FailureContext;
  /** Retry transient failures (idempotent requests only). */
  retry: boolean;
  /** Follow 3xx to blob storage (GET/HEAD of blobs). */
  followRedirects?: boolean;
  signal?: AbortSignal | undefined;
}

/** A response with an expected status. Its body must be consumed or discarded by the caller. */
export interface RegistryResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects), for resolving a relative `Location`. */
  url: URL;
}

/** What a session needs from its client. */
export interface SessionOptions {
  transport: Transport;
  auth: Authenticator;
  redactor: Redactor;
  logger: Logger;
  userAgent: string;
  insecure: (registry: string) => boolean;
  retries: number;
  sleep: SleepFn;
  now: () => number;
}

function sameChallenge(a: Challenge | undefined, b: Challenge | undefined): boolean {
  return a?.scheme === b?.scheme && a?.params.realm === b?.params.realm && a?.params.service === b?.params.service;
}

/** Per-client registry session: endpoints are pinged once and remembered. */
export class Session {
  private readonly endpoints = new Map<string, Promise<Endpoint>>();

  constructor(private readonly o: SessionOptions) {}

  /** The client's connect, header and body-idle timeouts, for messages. */
  get timeouts(): NetworkTimeouts {
    return this.o.transport.timeouts;
  }

  /** Sends a request, retrying transient failures when `req.retry`. The caller consumes the body. */
  send(req: RegistryRequest): Promise<RegistryResponse> {
    return this.fetch(req, async (res) => res);
  }

  /**
   * Sends a request and reads its response with `read` inside the same attempt, so that a
   * connection lost while reading a manifest is retried like one lost before the headers.
   */
  async fetch<T>(req: RegistryRequest, read: (res: RegistryResponse) => Promise<T>): Promise<T> {
    const ep = await this.endpoint(req.registry, req.ctx, req.signal);
    return withRetries(
      {
        retries: req.retry ? this.o.retries : 0,
        sleep: this.o.sleep,
        ...(req.signal ? { signal: req.signal } : {}),
        onRetry: this.logRetry(req.ctx),
      },
      async (canRetry, attempt) => {
        try {
          const res = await this.once(ep, req);
          try {
            return await read(res);
          } catch (err) {
            if (isAbort(err, req.signal)) throw err;
            throw (
              networkError(err, req.ctx, { host: req.registry, redactor: this.o.redactor, timeouts: this.timeouts }) ??
              err
            );
          }
        } catch (err) {
          if (canRetry && err instanceof TransientRegistryError) return new RetryLater(err.message, err.retryAfterMs);
          // A network failure (a timeout, a reset) says how often it was met; a status speaks for itself.
          if (attempt > 0 && err instanceof TransientRegistryError && err.details.status === undefined)
            err.message += ` (${attempt + 1} attempts)`;
          throw err;
        }
      },
    );
  }

  /** The registry's endpoint, pinging it on first use. */
  endpoint(registry: string, ctx: FailureContext, signal?: AbortSignal): Promise<Endpoint> {
    let p = this.endpoints.get(registry);
    if (p === undefined) {
      p = this.ping(registry, ctx, signal);
      p.catch(() => this.endpoints.delete(registry));
      this.endpoints.set(registry, p);
    }
    return p;
  }

  /** Logs a retry at warn: the reason is already a full, redacted message. */
  logRetry(ctx: FailureContext): (reason: string, waitMs: number, attempt: number) => void {
    return (reason, waitMs, attempt) =>
      this.o.logger.warn(`retrying in ${waitMs} ms: ${reason}`, { registry: ctx.registry, attempt });
  }

  private async once(ep: Endpoint, req: RegistryRequest): Promise<RegistryResponse> {
    const { registry, ctx, signal } = req;
    const registryHost = urlHostKey(new URL(ep.origin));
    let url = new URL(req.target, ep.origin);
    let scopes = req.scopes;
    let authRetried = false;
    let credentialsSent = false;
    for (let hops = 0; ;) {
      const ownHost = urlHostKey(url) === registryHost;
      const headers: Record<string, string> = { 'user-agent': this.o.userAgent, ...req.headers };
      // Credentials go to the registry's own host only, never to blob storage it redirects to
      // (Go's http.Client drops Authorization on cross-host redirects; so does Docker).
      if (ownHost) {
        const a = await this.o.auth.header(registry, ep.challenge, { scopes, ctx, signal });
        if (a.value !== undefined) headers.authorization = a.value;
        credentialsSent = a.credentials;
      }
      const body = typeof req.body === 'function' ? await req.body() : req.body;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.o.transport.agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: req.method,
          headers,
          body: body ?? null,
          signal: signal ?? null,
        });
      } catch (err) {
        if (body !== undefined && !(body instanceof Uint8Array)) body.destroy();
        if (isAbort(err, signal)) throw err;
        throw (
          networkError(err, ctx, {
            host: ownHost ? registry : url.host,
            redactor: this.o.redactor,
            timeouts: this.timeouts,
          }) ?? err
        );
      }
      this.o.logger.debug('registry request', {
        method: req.method,
        url: redactUrl(url.toString()),
        status: res.statusCode,
      });
      if (
        !req.expect.includes(res.statusCode) &&
        body !== undefined &&
        !(body instanceof Uint8Array) &&
        !body.readableEnded
      ) {
        // Answered before the whole body was sent (a 401, an error): the stream is not reused.
        body.destroy();
      }
      if (res.statusCode === 401 && ownHost && !authRetried) {
        // A 401 despite our header: the token lacks a scope (Docker Hub names it in the challenge),
        // expired, or the registry wants a different scheme than /v2/ announced. Answer it once.
        const ch = pickChallenge(parseWwwAuthenticate(res.headers['www-authenticate']));
        if (ch !== undefined && (ch.scheme === 'bearer' || !sameChallenge(ch, ep.challenge))) {
          await discard(res.body);
          this.o.auth.forget(registry, ep.challenge, scopes);
          ep.challenge = ch;
          scopes = [...new Set([...scopes, ...challengeScopes(ch)])];
          authRetried = true;
          continue;
        }
      }
      const location = res.headers.location;
      if (req.followRedirects && isRedirect(res.statusCode, location) && !req.expect.includes(res.statusCode)) {
        await discard(res.body);
        const next = redirectTarget(url, location, hops++);
        if ('refused' in next) throw protocolError(next.refused, ctx, this.o.redactor, res.statusCode);
        url = next.url;
        this.o.transport.bind(url, registry);
        continue;
      }
      if (req.expect.includes(res.statusCode))
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      // The registry's own refusal says whether credentials went with it and where they were looked for.
      const refused = ownHost && (res.statusCode === 401 || res.statusCode === 403);
      const facts = refused
        ? await this.o.auth.facts(registry, credentialsSent, res.headers['www-authenticate'])
        : undefined;
      throw await responseError(res, ctx, this.o.redactor, this.o.now(), facts);
    }
  }

  private async ping(registry: string, ctx: FailureContext, signal?: AbortSignal): Promise<Endpoint> {
    const host = apiHost(registry);
    const plain = mayUsePlainHttp(registry, this.o.insecure);
    const schemes = plain ? ['https', 'http'] : ['https'];
    const failures: { scheme: string; failure: NetworkFailure; cause: unknown }[] = [];
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${host}/v2/`);
      this.o.transport.bind(url, registry);
      const res = await withRetries(
        { retries: this.o.retries, sleep: this.o.sleep, ...(signal ? { signal } : {}), onRetry: this.logRetry(ctx) },
        async (canRetry, attempt) => {
          let r: Dispatcher.ResponseData;
          try {
            r = await this.o.transport.agent.request({
              origin: url.origin,
              path: url.pathname,
              method: 'GET',
              headers: { 'user-agent': this.o.userAgent },
              signal: signal ?? null,
            });
          } catch (err) {
            if (isAbort(err, signal)) throw err;
            const failure = classifyNetworkError(err, this.timeouts);
            if (failure === undefined) throw err;
            if (failure.retryable && canRetry) return new RetryLater(`${ctx.action}: ${registry}: ${failure.reason}`);
            const tries = attempt > 0 ? ` (${attempt + 1} attempts)` : '';
            failures.push({ scheme, failure: { ...failure, reason: `${failure.reason}${tries}` }, cause: err });
            return undefined;
          }
          if (isRetryableStatus(r.statusCode) && canRetry) {
            await discard(r.body);
            return new RetryLater(
              `${ctx.action}: ${registry} answered ${r.statusCode}`,
              parseRetryAfter(r.headers['retry-after'], this.o.now()),
            );
          }
          // 200: anonymous; 401: a challenge to answer (distribution spec "Determining support").
          // Anything else is not a registry speaking, as go-containerregistry's ping decides.
          if (r.statusCode === 200 || r.statusCode === 401) return r;
          if (scheme === 'http' && failures.length > 0) {
            // e.g. Go's TLS server answering plain HTTP with 400: the HTTPS failure is the story.
            await discard(r.body);
            failures.push({
              scheme,
              failure: { reason: `plain HTTP answered ${r.statusCode}`, retryable: false, tls: false },
              cause: undefined,
            });
            return undefined;
          }
          throw await responseError(r, ctx, this.o.redactor, this.o.now());
        },
      );
      if (res === undefined) continue;
      await discard(res.body);
      const challenge =
        res.statusCode === 401 ? pickChallenge(parseWwwAuthenticate(res.headers['www-authenticate'])) : undefined;
      if (scheme === 'http' && failures.length > 0) {
        // Debug, not info: go-containerregistry (and so Kaniko) falls back silently.
        this.o.logger.debug(
          `registry ${registry} does not answer over HTTPS (${failures[0]?.failure.reason ?? ''}); using plain HTTP`,
          { registry },
        );
      }
      this.o.logger.debug('registry endpoint', { registry, origin: url.origin, auth: challenge?.scheme ?? 'none' });
      return { origin: url.origin, challenge };
    }
    throw this.unreachable(registry, ctx, failures, plain);
  }

  private unreachable(
    registry: string,
    ctx: FailureContext,
    failures: { scheme: string; failure: NetworkFailure; cause: unknown }[],
    triedHttp: boolean,
  ): RegistryError {
    const reasons = [...new Set(failures.map((f) => f.failure.reason))];
    const why =
      reasons.length === 1
        ? (reasons[0] ?? '')
        : failures.map((f) => `${f.scheme.toUpperCase()}: ${f.failure.reason}`).join('; ');
    const first = failures[0];
    // With plain HTTP already allowed, "allow plain HTTP" is no advice; a certificate hint still is.
    let hint =
      first?.failure.hint !== undefined && !(triedHttp && first.failure.hint.includes('insecure'))
        ? first.failure.hint.replaceAll('REGISTRY', registry)
        : undefined;
    if (hint === undefined && first?.scheme === 'https' && errnoCode(first.cause) === 'UND_ERR_SOCKET') {
      // Go's TLS server (distribution with `clientcas`) hangs up on a client without a certificate.
      hint = `a registry that requires a client certificate closes the connection like this: give one with --registry-client-cert ${registry}=CERT,KEY`;
    }
    const details: RegistryError['details'] = { registry };
    if (ctx.repository !== undefined) details.repository = ctx.repository;
    return new RegistryError(
      this.o.redactor.apply(`${ctx.action}: cannot reach registry ${registry}: ${why}`),
      details,
      {
        cause: first?.cause,
        ...(hint !== undefined ? { hint } : {}),
      },
    );
  }
}
