/**
 * Answers a registry's auth challenge (distribution docs/spec/auth/token.md): no header for an
 * anonymous registry, `Basic` with the stored username and password, or `Bearer` with a token
 * fetched for the request's scopes and cached per registry, realm, service and scope set until it
 * expires. Credentials are looked up once per registry and registered with the redactor.
 */
import { Buffer } from 'node:buffer';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.js';
import type { FailureContext } from './failure.js';
import { protocolError } from './failure.js';
import type { Redactor } from './redact.js';
import type { AuthFacts } from './auth-failure.js';
import { fetchToken, tokenCredentials, type Token } from './token.js';
import type { Credential, CredentialOrigin, CredentialProvider } from './types.js';
import { parseWwwAuthenticate, pickChallenge, type Challenge } from './www-authenticate.js';

/** `repository:NAME:ACTIONS` (docs/spec/auth/scope.md); `actions` like `pull` or `pull,push`. */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

/** What the authenticator needs from its client. */
export interface AuthenticatorOptions {
  dispatcher: Dispatcher;
  credentials: CredentialProvider;
  redactor: Redactor;
  logger: Logger;
  userAgent: string;
  now: () => number;
}

/** The request {@link Authenticator.header} authorizes. */
export interface AuthRequest {
  /** The token scopes the request needs (`repository:NAME:pull,push`). */
  scopes: string[];
  /** What failure messages say was being done. */
  ctx: FailureContext;
  signal?: AbortSignal | undefined;
}

/** An `Authorization` value, and whether it carries the registry's credentials. */
export interface AuthHeader {
  value: string | undefined;
  credentials: boolean;
}

/** Per-client credential and token cache. */
export class Authenticator {
  private readonly creds = new Map<string, Promise<Credential | undefined>>();
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(private readonly opts: AuthenticatorOptions) {}

  /** The registry's credential, looked up once; its secrets are redacted from then on. */
  credential(registry: string): Promise<Credential | undefined> {
    let p = this.creds.get(registry);
    if (p === undefined) {
      p = this.opts.credentials.get(registry).then((c) => {
        if (c !== undefined) {
          if (c.username !== undefined && c.password !== undefined) this.opts.redactor.addBasic(c.username, c.password);
          this.opts.redactor.add(c.password);
          this.opts.redactor.add(c.identityToken);
          this.opts.redactor.add(c.registryToken);
        }
        this.opts.logger.debug('registry credentials', { registry, found: c !== undefined });
        return c;
      });
      p.catch(() => this.creds.delete(registry));
      this.creds.set(registry, p);
    }
    return p;
  }

  /**
   * The `Authorization` value for a request under `challenge` needing `req.scopes` (undefined to
   * send none: an anonymous registry, or no credentials for Basic), and whether it carries the
   * registry's credentials (an anonymous bearer token does not).
   */
  async header(registry: string, challenge: Challenge | undefined, req: AuthRequest): Promise<AuthHeader> {
    const { ctx } = req;
    if (challenge === undefined) return { value: undefined, credentials: false };
    const cred = await this.credential(registry);
    if (challenge.scheme === 'basic') {
      if (cred?.username === undefined || cred.password === undefined) return { value: undefined, credentials: false };
      return {
        value: `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`,
        credentials: true,
      };
    }
    if (challenge.scheme !== 'bearer') {
      throw protocolError(
        `the registry asks for unsupported authentication "${challenge.scheme}"`,
        ctx,
        this.opts.redactor,
        401,
      );
    }
    // Docker's `registrytoken`: already a bearer token for this registry, no token server involved.
    if (cred?.registryToken !== undefined) return { value: `Bearer ${cred.registryToken}`, credentials: true };
    const token = await this.token(registry, challenge, cred, req);
    return { value: `Bearer ${token.value}`, credentials: tokenCredentials(cred) };
  }

  /**
   * What a refusal of the registry's own host is worded from (auth-failure.ts). `challenge` is the
   * refusal's `WWW-Authenticate`: a Bearer `error="insufficient_scope"` (RFC 6750 §3.1) means the
   * token was issued but without the access asked for.
   */
  async facts(registry: string, sent: boolean, challenge?: string | string[]): Promise<AuthFacts> {
    const error = pickChallenge(parseWwwAuthenticate(challenge))?.params.error;
    return {
      registry,
      sent,
      origin: await this.origin(registry),
      by: 'registry',
      ...(error === 'insufficient_scope' ? { insufficientScope: true } : {}),
    };
  }

  /** Where the registry's credentials were looked for; undefined when the provider does not say or fails to. */
  private async origin(registry: string): Promise<CredentialOrigin | undefined> {
    try {
      return await this.opts.credentials.origin?.(registry);
    } catch {
      return undefined;
    }
  }

  /** Forgets the token used for these scopes, after the registry refused it. */
  forget(registry: string, challenge: Challenge | undefined, scopes: string[]): void {
    if (challenge?.scheme === 'bearer') this.tokens.delete(tokenKey(registry, challenge, scopes));
  }

  private async token(
    registry: string,
    challenge: Challenge,
    credential: Credential | undefined,
    req: AuthRequest,
  ): Promise<Token> {
    const { scopes, ctx, signal } = req;
    const realm = challenge.params.realm;
    if (realm === undefined || !/^https?:\/\//i.test(realm)) {
      throw protocolError('the registry sent a Bearer challenge without a usable realm', ctx, this.opts.redactor, 401);
    }
    const key = tokenKey(registry, challenge, scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined) {
      const t = await cached.catch(() => undefined);
      if (t !== undefined && t.expiresAt > this.opts.now()) return t;
      if (this.tokens.get(key) === cached) this.tokens.delete(key);
    }
    const p = fetchToken(
      {
        dispatcher: this.opts.dispatcher,
        redactor: this.opts.redactor,
        now: this.opts.now,
        ctx,
        ...(signal ? { signal } : {}),
        origin: () => this.origin(registry),
      },
      {
        realm,
        ...(challenge.params.service !== undefined ? { service: challenge.params.service } : {}),
        scopes,
        ...(credential !== undefined ? { credential } : {}),
        userAgent: this.opts.userAgent,
        clientId: 'kiln',
      },
    );
    this.tokens.set(key, p);
    p.then(
      (t) =>
        this.opts.logger.debug('registry token obtained', {
          registry,
          scopes: scopes.join(' '),
          expiresInMs: t.expiresAt - this.opts.now(),
        }),
      () => {
        if (this.tokens.get(key) === p) this.tokens.delete(key);
      },
    );
    return p;
  }
}

function tokenKey(registry: string, challenge: Challenge, scopes: string[]): string {
  return [registry, challenge.params.realm ?? '', challenge.params.service ?? '', ...[...scopes].sort()].join('\n');
}
