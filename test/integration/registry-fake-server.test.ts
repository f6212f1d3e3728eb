/**
 * The registry client against in-process fake servers, for what the real registry will not do
 * on demand (ARCHITECTURE.md §10): 429/503/resets and retries, redirects to blob storage, wrong digests,
 * oversized manifests, and the Bearer token flow (token server, scopes, identity and registry
 * tokens, expiry) — Docker Hub's protocol, without reaching beyond 127.0.0.1.
 */
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { IntegrityError, RegistryError } from '../../src/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { parseReference } from '../../src/oci/reference.js';
import { RegistryClient, type Credential, type RegistryClientOptions } from '../../src/registry/index.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { linesLogger, testRegistryClient } from '../support/registry-client.js';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

interface FakeServer {
  host: string;
  origin: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 answering with `handler` after reading each request body. */
async function fakeServer(handler: Handler): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const rec: Recorded = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        headers: raw.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res, raw)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON body with a status. */
function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(handler: Handler): Promise<FakeServer> {
  const s = await fakeServer(handler);
  cleanups.push(() => s.close());
  return s;
}

function client(opts: Partial<RegistryClientOptions> = {}, lines: string[] = []): RegistryClient {
  const c = testRegistryClient({ logger: linesLogger(lines, 'trace'), ...opts });
  cleanups.push(() => c.close());
  return c;
}

const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: {}, layers: [] }),
);

function serveManifest(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': sha256Of(MANIFEST) });
  res.end(MANIFEST);
}

describe('faults', () => {
  test('429 honours Retry-After, then succeeds', async () => {
    let n = 0;
    const s = await server((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      if (++n === 1)
        return json(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'retry-after': '7' });
      serveManifest(res);
    });
    const sleep = vi.fn(async (_ms: number) => {});
    const got = await client({ sleep }).getManifest(parseReference(`${s.host}/app:1`));
    expect(got.digest).toBe(sha256Of(MANIFEST));
    expect(sleep.mock.calls.map((c) => c[0])).toEqual([7000]);
  });

  test('503 is retried with backoff, then reported', async () => {
    const s = await server((req, res) =>
      req.url === '/v2/' ? json(res, 200, {}) : json(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'down' }] }),
    );
    const sleep = vi.fn(async (_ms: number) => {});
    const lines: string[] = [];
    const err = await client({ sleep }, lines)
      .getManifest(parseReference(`${s.host}/app:1`))
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `fetching manifest ${s.host}/app:1: registry server error (503 UNAVAILABLE: down)`,
    );
    expect(sleep.mock.calls.map((c) => c[0])).toEqual([1000, 2000, 4000]);
    expect(s.requests.filter((r) => r.url !== '/v2/')).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('WARN retrying'))).toHaveLength(3);
  });

  test('a connection reset is retried', async () => {
    let n = 0;
    const s = await server((req, res, raw) => {
      if (req.url === '/v2/') return json(res, 200, {});
      if (++n === 1) return void raw.socket.destroy();
      serveManifest(res);
    });
    expect((await client().getManifest(parseReference(`${s.host}/app:1`))).bytes.equals(MANIFEST)).toBe(true);
    expect(n).toBe(2);
  });

  test('no retries for non-idempotent failures such as 400', async () => {
    const s = await server((req, res) =>
      req.url === '/v2/'
        ? json(res, 200, {})
        : json(res, 400, { errors: [{ code: 'MANIFEST_INVALID', message: 'bad' }] }),
    );
    const err = await client()
      .putManifest(
        { registry: s.host, repository: 'app', tagOrDigest: '1' },
        { bytes: MANIFEST, mediaType: MediaType.ociManifest },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(`pushing ${s.host}/app:1: bad request (400 MANIFEST_INVALID: bad)`);
    expect(s.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  test('blob redirects are followed without sending Authorization to the storage host', async () => {
    const storage = await server((_req, res) => {
      res.writeHead(200);
      res.end('blob bytes');
    });
    const s = await server((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:pw-secret').toString('base64')}`) {
        return json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          { 'www-authenticate': 'Basic realm="fake"' },
        );
      }
      if (req.url === '/v2/') return json(res, 200, {});
      res.writeHead(307, { location: `${storage.origin}/bucket/blob?X-Amz-Signature=sig-secret` });
      res.end();
    });
    const lines: string[] = [];
    const body = await client(
      { credentials: { get: async () => ({ username: 'u', password: 'pw-secret' }) } },
      lines,
    ).getBlob(s.host, 'app', sha256Of('x'));
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('blob bytes');
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
    expect(storage.requests[0]?.url).toBe('/bucket/blob?X-Amz-Signature=sig-secret');
    expect(lines.join('')).not.toMatch(/sig-secret|pw-secret/);
  });

  test('a manifest fetched by digest must match it', async () => {
    const s = await server((req, res) => (req.url === '/v2/' ? json(res, 200, {}) : serveManifest(res)));
    const wanted = sha256Of('something else');
    const err = await client()
      .getManifest(parseReference(`${s.host}/app@${wanted}`))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toBe(
      `fetching manifest ${s.host}/app@${wanted}: digest mismatch: the registry sent content with digest ${sha256Of(MANIFEST)}`,
    );
  });

  test('a manifest over 4 MiB is refused', async () => {
    const s = await server((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      res.writeHead(200, { 'content-type': MediaType.ociManifest });
      res.end(Buffer.alloc(5 * 1024 * 1024, 32));
    });
    await expect(client().getManifest(parseReference(`${s.host}/app:1`))).rejects.toThrow(
      /the manifest is larger than 4194304 bytes/,
    );
  });

  test('a failed upload PUT retries the whole upload, reopening the stream; Location state is kept', async () => {
    let puts = 0;
    const s = await server((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      if (req.method === 'POST') {
        res.writeHead(202, { location: '/v2/app/blobs/uploads/u1?_state=a%2Bb%3D' });
        return void res.end();
      }
      if (req.method === 'PUT') {
        if (++puts === 1) return json(res, 500, { errors: [{ code: 'UNKNOWN', message: 'oops' }] });
        res.writeHead(201);
        return void res.end();
      }
      json(res, 404, {});
    });
    const bytes = Buffer.from('layer');
    const open = vi.fn(async () => Readable.from([bytes]));
    await client().uploadBlob(
      { registry: s.host, repository: 'app', digest: sha256Of(bytes) },
      { size: bytes.length, open },
    );
    expect(open).toHaveBeenCalledTimes(2);
    const put = s.requests.filter((r) => r.method === 'PUT');
    expect(put.map((r) => r.url)).toEqual(
      [1, 2].map(() => `/v2/app/blobs/uploads/u1?_state=a%2Bb%3D&digest=${encodeURIComponent(sha256Of(bytes))}`),
    );
    expect(put[1]?.body.toString()).toBe('layer');
    expect(put[1]?.headers['content-length']).toBe('5');
  });

  test('an abort while waiting to retry rejects with the abort, not a RegistryError', async () => {
    const s = await server((req, res) => (req.url === '/v2/' ? json(res, 200, {}) : json(res, 503, {})));
    const ac = new AbortController();
    const sleep = async (): Promise<void> => {
      ac.abort(new Error('build cancelled'));
      throw ac.signal.reason;
    };
    const err = await client({ sleep })
      .getManifest(parseReference(`${s.host}/app:1`), ac.signal)
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe('build cancelled');
  });
});

/** A token server issuing `tok:<base64 scopes>` and a registry accepting only tokens that cover each request. */
async function bearerPair(
  opts: { pushForHead?: boolean; expiresIn?: number } = {},
): Promise<{ registry: FakeServer; tokens: FakeServer }> {
  let issued = 0;
  const tokens = await server((req, res) => {
    const url = new URL(req.url, 'http://x');
    let scopes = url.searchParams.getAll('scope');
    if (req.method === 'POST') {
      const form = new URLSearchParams(req.body.toString());
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'refresh-secret')
        return json(res, 401, { error: 'invalid_grant' });
      scopes = (form.get('scope') ?? '').split(' ');
    } else if (
      req.headers.authorization !== undefined &&
      req.headers.authorization !== `Basic ${Buffer.from('alice:right-secret').toString('base64')}`
    ) {
      return json(res, 401, { details: 'incorrect username or password' });
    }
    issued++;
    json(res, 200, {
      token: `tok${issued}:${Buffer.from(scopes.join(' ')).toString('base64')}`,
      expires_in: opts.expiresIn ?? 300,
    });
  });
  const challenge = (scope?: string): string =>
    `Bearer realm="${tokens.origin}/token",service="fake"${scope ? `,scope="${scope}"` : ''}`;
  const registry = await server((req, res) => {
    if (req.url === '/v2/')
      return json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': challenge() });
    const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(req.url)?.[1] ?? '';
    const push = req.method === 'POST' || req.method === 'PUT' || (opts.pushForHead === true && req.method === 'HEAD');
    const need = `repository:${repo}:${push ? 'pull,push' : 'pull'}`;
    const auth = req.headers.authorization ?? '';
    const granted =
      auth === 'Bearer registry-secret'
        ? [need]
        : Buffer.from(auth.replace(/^Bearer tok\d+:/, ''), 'base64')
            .toString()
            .split(' ');
    if (!granted.includes(need)) {
      return json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { 'www-authenticate': challenge(need) },
      );
    }
    if (req.method === 'GET') return serveManifest(res);
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(201).end();
    json(res, 400, {});
  });
  return { registry, tokens };
}

function creds(c: Credential | undefined): { credentials: { get: () => Promise<Credential | undefined> } } {
  return { credentials: { get: async () => c } };
}

describe('bearer token flow', () => {
  test('fetches a pull token with Basic credentials once, and reuses it', async () => {
    const { registry, tokens } = await bearerPair();
    const lines: string[] = [];
    const c = client(creds({ username: 'alice', password: 'right-secret' }), lines);
    await c.getManifest(parseReference(`${registry.host}/app:1`));
    await c.getManifest(parseReference(`${registry.host}/app:2`));
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]?.url).toBe('/token?service=fake&scope=repository%3Aapp%3Apull');
    expect(tokens.requests[0]?.headers['user-agent']).toBe('kiln/test');
    expect(lines.join('')).not.toMatch(/right-secret|tok1:/);
  });

  test('anonymous: asks for a token without credentials', async () => {
    const { registry, tokens } = await bearerPair();
    await client().getManifest(parseReference(`${registry.host}/library/busybox:1`));
    expect(tokens.requests[0]?.headers.authorization).toBeUndefined();
  });

  test('a refused login names the token server, never the password', async () => {
    const { registry, tokens } = await bearerPair();
    const err = await client(creds({ username: 'alice', password: 'wrong-secret' }))
      .getManifest(parseReference(`${registry.host}/app:1`))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `fetching manifest ${registry.host}/app:1: authenticating with ${tokens.origin}/token: unauthorized (401 incorrect username or password): credentials rejected`,
    );
    expect(JSON.stringify(err) + String(err) + ((err as RegistryError).hint ?? '')).not.toContain('wrong-secret');
  });

  test('uploads ask for pull,push; mounts add pull on the source repository', async () => {
    const { registry, tokens } = await bearerPair();
    const c = client(creds({ username: 'alice', password: 'right-secret' }));
    expect(await c.mountBlob({ registry: registry.host, repository: 'app', digest: sha256Of('x') }, 'base/image')).toBe(
      true,
    );
    expect(tokens.requests[0]?.url).toBe(
      '/token?service=fake&scope=repository%3Aapp%3Apull%2Cpush&scope=repository%3Abase%2Fimage%3Apull',
    );
  });

  test('a 401 naming a wider scope (Docker Hub) is answered once with a new token', async () => {
    const { registry, tokens } = await bearerPair({ pushForHead: true });
    expect(await client().hasBlob(registry.host, 'app', sha256Of('x'))).toBe(false);
    expect(tokens.requests.map((r) => new URL(r.url, 'http://x').searchParams.getAll('scope'))).toEqual([
      ['repository:app:pull'],
      ['repository:app:pull', 'repository:app:pull,push'],
    ]);
  });

  test('identity tokens use the OAuth2 refresh_token grant', async () => {
    const { registry, tokens } = await bearerPair();
    await client(creds({ identityToken: 'refresh-secret' })).getManifest(parseReference(`${registry.host}/app:1`));
    expect(tokens.requests[0]?.method).toBe('POST');
    const form = new URLSearchParams(tokens.requests[0]?.body.toString());
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-secret',
      client_id: 'kiln',
      service: 'fake',
      scope: 'repository:app:pull',
    });
  });

  test('a registry token is sent as is, without a token server', async () => {
    const { registry, tokens } = await bearerPair();
    await client(creds({ registryToken: 'registry-secret' })).getManifest(parseReference(`${registry.host}/app:1`));
    expect(tokens.requests).toHaveLength(0);
  });

  test('an expired token is fetched again', async () => {
    const { registry, tokens } = await bearerPair({ expiresIn: 60 });
    let now = 1_000_000;
    const c = client({ now: () => now });
    await c.getManifest(parseReference(`${registry.host}/app:1`));
    now += 50_000;
    await c.getManifest(parseReference(`${registry.host}/app:1`));
    expect(tokens.requests).toHaveLength(1);
    now += 10_000;
    await c.getManifest(parseReference(`${registry.host}/app:1`));
    expect(tokens.requests).toHaveLength(2);
  });
});
