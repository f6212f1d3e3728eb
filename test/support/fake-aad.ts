/**
 * FAKES of Azure's token services on 127.0.0.1, for `@azure/identity` (issue 14):
 * - {@link startFakeAad}: Azure AD (an authority for AZURE_AUTHORITY_HOST) over HTTPS with a test
 *   CA, since MSAL insists on an https authority: the tenant's OpenID configuration and its v2.0
 *   token endpoint, answering each grant with what `grant` says.
 * - {@link startFakeImds}: the instance metadata service's managed identity endpoint over plain
 *   http, as Azure serves it (the SDK finds it at AZURE_POD_IDENTITY_AUTHORITY_HOST).
 * Neither checks anything Azure would not; each test decides what its fake accepts.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { issueCert, makeCa, type CertFiles } from './certs.js';

/** A grant the fake AAD got, and what it answers: a status and a JSON body. */
export type Grant = (form: URLSearchParams, tenant: string) => { status: number; body: unknown };

/** A running fake AAD. */
export interface FakeAad {
  /** `https://127.0.0.1:PORT/`: the AZURE_AUTHORITY_HOST to give. */
  authority: string;
  /** The CA its certificate chains to (for NODE_EXTRA_CA_CERTS or trustedCas). */
  ca: CertFiles;
  /** Every grant's form, in order. */
  grants: URLSearchParams[];
  stop(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const c of req) body += String(c);
  return body;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Starts a fake Azure AD over HTTPS, its certificates made in `dir`. */
export async function startFakeAad(dir: string, grant: Grant): Promise<FakeAad> {
  const ca = await makeCa(dir, 'aad-ca');
  const cert = await issueCert(ca, dir, 'aad-server', 'server');
  const grants: URLSearchParams[] = [];
  let base = '';
  const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const path = (req.url ?? '').split('?')[0] ?? '';
      const config = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
      if (req.method === 'GET' && config) {
        const t = `${base}${config[1]}`;
        return json(res, 200, {
          token_endpoint: `${t}/oauth2/v2.0/token`,
          authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${t}/oauth2/v2.0/logout`,
          issuer: `${t}/v2.0`,
          jwks_uri: `${t}/discovery/v2.0/keys`,
        });
      }
      const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
      if (req.method === 'POST' && token) {
        const form = new URLSearchParams(body);
        grants.push(form);
        const r = grant(form, token[1] ?? '');
        return json(res, r.status, r.body);
      }
      json(res, 404, { error: 'not_found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  base = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  return {
    authority: base,
    ca,
    grants,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A running fake IMDS. */
export interface FakeImds {
  /** `http://127.0.0.1:PORT`: the AZURE_POD_IDENTITY_AUTHORITY_HOST to give. */
  url: string;
  /** The `resource` of every token request. */
  resources: string[];
  stop(): Promise<void>;
}

/** Starts a fake IMDS issuing `token(resource)` to requests with `Metadata: true`. */
export async function startFakeImds(token: (resource: string) => string): Promise<FakeImds> {
  const resources: string[] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://imds');
    const resource = url.searchParams.get('resource');
    // MSAL asks for `…/oauth2/token/` with a trailing slash.
    if (
      url.pathname.replace(/\/$/, '') !== '/metadata/identity/oauth2/token' ||
      req.headers.metadata !== 'true' ||
      resource === null
    )
      return json(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    resources.push(resource);
    const now = Math.floor(Date.now() / 1000);
    json(res, 200, {
      access_token: token(resource),
      expires_in: '3600',
      expires_on: String(now + 3600),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    resources,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An access token as Azure AD issues one for `aud` (a JWT with `iss`, `tid`, `aud` and times),
 * signed with nothing anyone checks: Azurite's `--oauth basic` reads the claims only.
 */
export function fakeAccessToken(aud: string, tenant: string, marker: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    aud,
    iss: `https://sts.windows.net/${tenant}/`,
    tid: tenant,
    iat: now,
    nbf: now - 60,
    exp: now + 3600,
  };
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from(marker).toString('base64url')}`;
}
