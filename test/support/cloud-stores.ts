/**
 * Object stores on loopback for the bucket context tests (issue 14):
 * - s3rver (npm), a real S3-compatible server. It checks the access key id but NOT SigV4
 *   signatures ("V4 signatures have incomplete support"), so a wrong secret is tested against
 *   {@link startSigV4S3}, a FAKE that does check them (with its own SigV4 code, independent of
 *   Kiln's).
 * - Azurite (npm), Microsoft's Azure Storage emulator (azurite.ts), which checks Shared Key signatures.
 * - {@link startFakeGcs}: a FAKE of Google's OAuth2 token endpoint (a service-account JWT grant,
 *   its RS256 signature checked) and the JSON API's media download. No GCS emulator is installable.
 */
import { createHash, createHmac, createVerify, generateKeyPairSync } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

/** A server on 127.0.0.1 and how to stop it. */
export interface Started {
  port: number;
  stop(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server & Started> {
  const srv = createServer(handler);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  return Object.assign(srv, {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    stop: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  });
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** s3rver's built-in account. */
export const S3RVER_KEY = { id: 'S3RVER', secret: 'S3RVER' };

/** Starts s3rver with `bucket` and puts `objects` (key → bytes) in it. */
export async function startS3rver(dir: string, bucket: string, objects: Record<string, Buffer>): Promise<Started> {
  // s3rver is CommonJS without types.
  const S3rver = createRequire(import.meta.url)('s3rver') as new (o: object) => {
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
  };
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  for (const [key, bytes] of Object.entries(objects)) {
    // s3rver checks only the access key id of a V4 Authorization header.
    const auth = `AWS4-HMAC-SHA256 Credential=${S3RVER_KEY.id}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0`;
    await send(
      {
        port,
        method: 'PUT',
        path: `/${bucket}/${key}`,
        headers: {
          authorization: auth,
          'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      },
      bytes,
    );
  }
  return { port, stop: () => server.close() };
}

async function send(
  o: { port: number; method: string; path: string; headers: Record<string, string> },
  body: Buffer,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', ...o, headers: { ...o.headers, 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode < 300
            ? resolve()
            : reject(new Error(`${o.method} ${o.path}: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const hmac = (k: Buffer | string, s: string): Buffer => createHmac('sha256', k).update(s).digest();
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const s3Error = (res: ServerResponse, status: number, code: string): void => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
};

/**
 * A FAKE S3 (path-style GETs only) that checks SigV4 signatures as AWS does, for one access key;
 * `objects` maps `/BUCKET/KEY` to bytes.
 */
export async function startSigV4S3(
  key: { id: string; secret: string },
  objects: Record<string, Buffer>,
  /** Per path, how the first GETs fail before it is served: a 503 SlowDown, or a body cut short. */
  failFirst: Record<string, ('503' | 'cut')[]> = {},
): Promise<Started> {
  return listen((req, res) => {
    const auth =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(
        req.headers.authorization ?? '',
      );
    if (!auth) return s3Error(res, 403, 'AccessDenied');
    const [, id, date = '', region = '', signed = '', signature] = auth;
    if (id !== key.id) return s3Error(res, 403, 'InvalidAccessKeyId');
    const url = new URL(req.url ?? '/', 'http://x');
    const names = signed.split(';');
    // The canonical query: names and values RFC 3986-encoded, sorted (the AWS SDK adds `x-id=GetObject`).
    const rfc3986 = (v: string): string =>
      encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const query = [...url.searchParams]
      .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
      .sort()
      .join('&');
    const canonical = [
      req.method,
      url.pathname,
      query,
      names.map((n) => `${n}:${String(req.headers[n] ?? '').trim()}\n`).join(''),
      signed,
      String(req.headers['x-amz-content-sha256']),
    ].join('\n');
    const scope = `${date}/${region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date']), scope, sha256(canonical)].join('\n');
    const k = hmac(hmac(hmac(hmac(`AWS4${key.secret}`, date), region), 's3'), 'aws4_request');
    if (!names.includes('host') || hmac(k, toSign).toString('hex') !== signature)
      return s3Error(res, 403, 'SignatureDoesNotMatch');
    const bytes = objects[decodeURIComponent(url.pathname)];
    if (bytes === undefined) return s3Error(res, 404, 'NoSuchKey');
    const failure = failFirst[decodeURIComponent(url.pathname)]?.shift();
    if (failure === '503') return s3Error(res, 503, 'SlowDown');
    res.writeHead(200, { 'content-length': bytes.length });
    if (failure === 'cut') return void res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
    res.end(bytes);
  });
}

export { AZURITE, startAzurite } from './azurite.js';

/** The FAKE GCS and the service-account key file (JSON) whose token_uri points at it. */
export interface FakeGcs extends Started {
  keyJson: string;
  /** The token it issues for a valid grant. */
  token: string;
  /** Its STS token exchange (workload identity federation), and the subject token it accepts there. */
  stsUrl: string;
  subjectToken: string;
}

/**
 * A FAKE of Google's OAuth2 token endpoint, its STS token exchange and the JSON API's media
 * download: it issues `token` for a JWT-bearer grant signed by the key file's private key (aud
 * its token_uri), or at `/sts` for `subjectToken` (RFC 8693, as sts.googleapis.com), and serves
 * `objects` (`BUCKET/OBJECT` → bytes) at `/storage/v1/b/BUCKET/o/OBJECT?alt=media` to that token.
 */
export async function startFakeGcs(objects: Record<string, Buffer>): Promise<FakeGcs> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const token = `ya29.fake-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
  const subjectToken = `oidc-fake-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
  let tokenUri = '';
  const srv = await listen((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/token') {
        const form = new URLSearchParams((await bodyOf(req)).toString());
        const [h = '', c = '', s = ''] = (form.get('assertion') ?? '').split('.');
        const claims = JSON.parse(Buffer.from(c, 'base64url').toString() || '{}') as { aud?: string };
        const ok =
          form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
          claims.aud === tokenUri &&
          createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, s, 'base64url');
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify(
            ok ? { access_token: token, expires_in: 3600, token_type: 'Bearer' } : { error: 'invalid_grant' },
          ),
        );
      }
      if (req.method === 'POST' && url.pathname === '/sts') {
        const form = new URLSearchParams((await bodyOf(req)).toString());
        const ok =
          form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:token-exchange' &&
          form.get('requested_token_type') === 'urn:ietf:params:oauth:token-type:access_token' &&
          (form.get('audience') ?? '').startsWith('//iam.googleapis.com/') &&
          form.get('subject_token') === subjectToken;
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify(
            ok
              ? {
                  access_token: token,
                  issued_token_type: form.get('requested_token_type'),
                  token_type: 'Bearer',
                  expires_in: 3600,
                }
              : { error: 'invalid_grant', error_description: 'The subject token is invalid.' },
          ),
        );
      }
      const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
      if (req.method !== 'GET' || !m || url.searchParams.get('alt') !== 'media') return void res.writeHead(400).end();
      // The shape of Google's JSON API errors.
      const json = (status: number, reason: string, message: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } }));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return json(401, 'authError', 'Invalid Credentials');
      const name = `${decodeURIComponent(m[1] ?? '')}/${decodeURIComponent(m[2] ?? '')}`;
      const bytes = objects[name];
      if (bytes === undefined) return json(404, 'notFound', `No such object: ${name}`);
      res.writeHead(200, { 'content-length': bytes.length });
      res.end(bytes);
    })();
  });
  tokenUri = `http://127.0.0.1:${srv.port}/token`;
  const keyJson = JSON.stringify({
    type: 'service_account',
    project_id: 'kiln-test',
    private_key_id: 'k1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'builder@kiln-test.iam.gserviceaccount.com',
    token_uri: tokenUri,
  });
  return {
    port: srv.port,
    stop: () => srv.stop(),
    keyJson,
    token,
    stsUrl: `http://127.0.0.1:${srv.port}/sts`,
    subjectToken,
  };
}
