/**
 * Bearer tokens from a registry's token server (distribution docs/spec/auth/token.md and
 * oauth.md): `GET realm?service=…&scope=…` with Basic credentials (or none, for anonymous pulls),
 * or, for an identity token, `POST realm` with `grant_type=refresh_token` — falling back to GET
 * when the server does not implement OAuth2 (404/405), as go-containerregistry does.
 */
import { Buffer } from 'node:buffer';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { readAtMost, SMALL_BODY_MAX_BYTES } from './body.js';
import { networkError, protocolError, responseError, type FailureContext } from './failure.js';
import type { Redactor } from './redact.js';
import type { Credential, CredentialOrigin } from './types.js';

/** A bearer token and when to stop using it (ms since the epoch). */
export interface Token {
  value: string;
  expiresAt: number;
}

/** The spec's default lifetime when `expires_in` is absent. */
export const DEFAULT_TOKEN_SECONDS = 60;

const tokenResponse = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
});

/**
 * Parses a token response. `token` wins over `access_token` (both are allowed by the spec). The
 * token is renewed a little before it expires (10% of its life, at most 30 s) so that a request
 * never starts with a token about to lapse.
 */
export function parseTokenResponse(json: unknown, now: number): Token | undefined {
  const r = tokenResponse.safeParse(json);
  if (!r.success) return undefined;
  const value = r.data.token || r.data.access_token;
  if (!value) return undefined;
  const seconds = r.data.expires_in !== undefined && r.data.expires_in > 0 ? r.data.expires_in : DEFAULT_TOKEN_SECONDS;
  const margin = Math.min(seconds * 100, 30_000);
  return { value, expiresAt: now + seconds * 1000 - margin };
}

/** What to ask the token server for. */
export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  credential?: Credential;
  userAgent: string;
  /** Sent as OAuth2 `client_id`. */
  clientId: string;
}

/** Where the token fetch runs and how its failures are worded. */
export interface TokenEnv {
  dispatcher: Dispatcher;
  redactor: Redactor;
  now: () => number;
  ctx: FailureContext;
  signal?: AbortSignal;
  /** Where the registry's credentials were looked for, for the words of a refusal. */
  origin?: () => Promise<CredentialOrigin | undefined>;
}

function basicHeader(c: Credential | undefined): string | undefined {
  if (c?.username === undefined || c.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

async function send(
  env: TokenEnv,
  url: URL,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
): Promise<Dispatcher.ResponseData> {
  try {
    return await env.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: init.method,
      headers: init.headers,
      body: init.body ?? null,
      signal: env.signal ?? null,
    });
  } catch (err) {
    throw networkError(err, env.ctx, { host: `token server ${url.host}`, redactor: env.redactor }) ?? err;
  }
}

/** Reads the token server's answer; `sent` says whether the request carried credentials. */
async function readToken(env: TokenEnv, res: Dispatcher.ResponseData, realm: string, sent: boolean): Promise<Token> {
  const authCtx = { ...env.ctx, action: `${env.ctx.action}: authenticating with ${realm}`, subject: 'token' as const };
  if (res.statusCode !== 200) {
    const facts = { registry: env.ctx.registry, sent, origin: await env.origin?.(), by: 'token service' as const };
    throw await responseError(res, authCtx, env.redactor, env.now(), facts);
  }
  const { bytes, truncated } = await readAtMost(res.body, SMALL_BODY_MAX_BYTES);
  let json: unknown;
  try {
    json = truncated ? undefined : JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  const token = parseTokenResponse(json, env.now());
  if (token === undefined)
    throw protocolError('the token server returned no token', authCtx, env.redactor, res.statusCode);
  env.redactor.add(token.value);
  return token;
}

/** Fetches a token for `req.scopes`; throws a RegistryError saying why the server refused. */
export async function fetchToken(env: TokenEnv, req: TokenRequest): Promise<Token> {
  const realm = new URL(req.realm);
  const common = { 'user-agent': req.userAgent };
  if (req.credential?.identityToken !== undefined) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: req.credential.identityToken,
      client_id: req.clientId,
    });
    if (req.service !== undefined) form.set('service', req.service);
    if (req.scopes.length > 0) form.set('scope', req.scopes.join(' '));
    const res = await send(env, realm, {
      method: 'POST',
      headers: { ...common, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (res.statusCode !== 404 && res.statusCode !== 405)
      return readToken(env, res, realm.origin + realm.pathname, true);
    await res.body.dump();
  }
  const url = new URL(realm);
  if (req.service !== undefined) url.searchParams.set('service', req.service);
  for (const s of req.scopes) url.searchParams.append('scope', s);
  const auth = basicHeader(req.credential);
  const res = await send(env, url, { method: 'GET', headers: auth ? { ...common, authorization: auth } : common });
  return readToken(env, res, realm.origin + realm.pathname, auth !== undefined);
}

/** Whether a token request with `c` carries credentials: Basic username and password, or an identity token. */
export function tokenCredentials(c: Credential | undefined): boolean {
  return basicHeader(c) !== undefined || c?.identityToken !== undefined;
}
