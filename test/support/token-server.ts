/**
 * A bearer-token server for the real registry's `auth: token` mode (distribution
 * docs/spec/auth/token.md, jwt.md, oauth.md), written with node:http and node:crypto: it checks
 * Basic credentials (or a refresh token on `POST`), grants actions per repository, and issues
 * JWTs signed RS256 or ES256 with a certificate from the test CA, carried in the `x5c` header so
 * the registry verifies it against its `rootcertbundle`. This is Docker Hub's flow, on 127.0.0.1.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, sign, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { CertFiles } from './certs.js';

/** One request the token server answered. */
export interface TokenRequestLog {
  method: string;
  /** Requested scopes, e.g. `repository:app:pull,push`. */
  scopes: string[];
  /** The authenticated user; undefined for anonymous requests and refused logins. */
  user: string | undefined;
  /** Whether an Authorization header (or refresh token) came with it. */
  credentialsSent: boolean;
  status: number;
}

/** Options of {@link startTokenServer}. */
export interface TokenServerOptions {
  service: string;
  issuer: string;
  signing: CertFiles;
  alg: 'RS256' | 'ES256';
  /** username → password. */
  users: Record<string, string>;
  /** refresh token (a Docker `identitytoken`) → username. */
  refreshTokens?: Record<string, string>;
  /** Actions granted on a repository; default: every user gets what it asks for, anonymous only `pull`. */
  grant?: (user: string | undefined, repository: string, requested: string[]) => string[];
  /** Seconds a token lives (`expires_in`). */
  lifetime?: number;
  /** A refusal (e.g. 403) for a request that passed authentication, by user and requested scopes; undefined issues the token. */
  refuse?: (user: string | undefined, scopes: string[]) => { status: number; body: unknown } | undefined;
}

export interface TokenServer {
  /** The `realm` URL to put in the registry's config. */
  realm: string;
  requests: TokenRequestLog[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function jwt(
  opts: TokenServerOptions,
  user: string | undefined,
  access: { type: string; name: string; actions: string[] }[],
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: opts.alg, x5c: [new X509Certificate(opts.signing.certPem).raw.toString('base64')] };
  const claims = {
    iss: opts.issuer,
    sub: user ?? '',
    aud: opts.service,
    exp: now + (opts.lifetime ?? 300),
    nbf: now - 10,
    iat: now,
    jti: randomBytes(8).toString('hex'),
    access,
  };
  const payload = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // JWS: RS256 is PKCS#1 v1.5 over SHA-256; ES256 is the raw r||s pair (RFC 7518 §3.4), not DER.
  const sig = sign(
    'sha256',
    Buffer.from(payload),
    opts.alg === 'ES256' ? { key: opts.signing.keyPem, dsaEncoding: 'ieee-p1363' } : opts.signing.keyPem,
  );
  return `${payload}.${b64url(sig)}`;
}

/** `repository:NAME:ACTIONS` (NAME may hold colons in other resource types), split into parts. */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== ''),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Starts the token server on 127.0.0.1 at a free port. */
export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const requests: TokenRequestLog[] = [];
  const grant =
    opts.grant ??
    ((user, _repo, requested) => (user === undefined ? requested.filter((a) => a === 'pull') : requested));
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://token');
      let scopes = url.searchParams.getAll('scope');
      let user: string | undefined;
      let credentialsSent = false;
      const respond = (status: number, body: unknown): void => {
        requests.push({ method: req.method ?? '', scopes, user, credentialsSent, status });
        json(res, status, body);
      };
      if (req.method === 'POST') {
        // OAuth2 (oauth.md): refresh_token (a Docker identity token) or password grants.
        const form = new URLSearchParams(await readBody(req));
        scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
        credentialsSent = true;
        const grantType = form.get('grant_type');
        if (grantType === 'refresh_token') user = opts.refreshTokens?.[form.get('refresh_token') ?? ''];
        else if (grantType === 'password' && opts.users[form.get('username') ?? ''] === form.get('password'))
          user = form.get('username') ?? undefined;
        if (user === undefined) return respond(401, { error: 'invalid_grant' });
      } else {
        const auth = req.headers.authorization;
        if (auth !== undefined) {
          credentialsSent = true;
          const decoded = Buffer.from(auth.replace(/^Basic /i, ''), 'base64').toString();
          const colon = decoded.indexOf(':');
          const name = decoded.slice(0, colon);
          if (colon < 0 || opts.users[name] !== decoded.slice(colon + 1))
            return respond(401, { details: 'incorrect username or password' });
          user = name;
        }
      }
      if (url.searchParams.get('service') !== null && url.searchParams.get('service') !== opts.service)
        return respond(400, { details: 'unknown service' });
      const refused = opts.refuse?.(user, scopes);
      if (refused !== undefined) return respond(refused.status, refused.body);
      const access = scopes
        .flatMap((s) => s.split(' '))
        .map(parseScope)
        .filter((s) => s !== undefined)
        .map((s) => ({ ...s, actions: s.type === 'repository' ? grant(user, s.name, s.actions) : [] }))
        .filter((s) => s.actions.length > 0);
      const token = jwt(opts, user, access);
      respond(200, {
        token,
        access_token: token,
        expires_in: opts.lifetime ?? 300,
        issued_at: new Date().toISOString(),
      });
    })().catch((err: unknown) => json(res, 500, { details: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
