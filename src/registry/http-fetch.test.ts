/**
 * fetchStream against servers on 127.0.0.1: the timeouts (no answer at all, headers then
 * silence), redirects by the shared policy, and redaction of credentials and signed queries in
 * every failure. Bounded by elapsed time, never by a sleep.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterEach, expect, test } from 'vitest';
import { FetchFailed, fetchStream } from './http-fetch.js';

const SHORT = { connectMs: 200, headersMs: 200, bodyMs: 200 };
const servers: { server: Server | HttpServer; sockets: Socket[] }[] = [];
const get = (url: string): Promise<Awaited<ReturnType<typeof fetchStream>>> =>
  fetchStream(new URL(url), { signal: new AbortController().signal, timeouts: SHORT });
const failure = (url: string): Promise<FetchFailed> =>
  get(url).then(
    () => expect.fail('no error'),
    (e: unknown) => e as FetchFailed,
  );

async function serve(server: Server | HttpServer): Promise<string> {
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a server that never answers: a timed-out FetchFailed naming the wait', async () => {
  const base = await serve(createServer(() => undefined));
  const started = Date.now();
  const err = await failure(`${base}/f`);
  expect(err).toBeInstanceOf(FetchFailed);
  expect(err.message).toBe(`GET ${base}/f: no response within 0.2 s`);
  expect(err.extra.timedOut).toBe(true);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a body that stalls errors the stream with a timed-out FetchFailed', async () => {
  const base = await serve(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
    }),
  );
  const started = Date.now();
  const dl = await get(`${base}/f`);
  expect(dl.size).toBe(1000);
  const err = await text(dl.body).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FetchFailed);
  expect((err as FetchFailed).message).toBe('no data for 0.2 s');
  expect((err as FetchFailed).extra.timedOut).toBe(true);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a refused request carries its status; a whole body is read as before', async () => {
  const base = await serve(
    createHttpServer((req, res) => {
      if (req.url === '/missing') res.writeHead(503).end();
      else res.writeHead(200, { 'content-length': '5', 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end('hello');
    }),
  );
  const err = await failure(`${base}/missing`);
  expect(err.extra).toMatchObject({ status: 503 });
  expect(err.message).toBe(`GET ${base}/missing: 503 Service Unavailable`);
  const dl = await get(`${base}/ok`);
  expect(dl.lastModified?.toISOString()).toBe('2015-10-21T07:28:00.000Z');
  expect(await text(dl.body)).toBe('hello');
});

const PASSWORD = 'S3cret-Passw0rd';
const SIGNATURE = 'deadbeefSignature0123';
const SECRETS = [PASSWORD, SIGNATURE, 'Tok3n-Value', Buffer.from(`bob:${PASSWORD}`).toString('base64')];
const secretUrl = (base: string, path: string): string =>
  `${base.replace('//', `//bob:${PASSWORD}@`)}${path}?X-Amz-Signature=${SIGNATURE}&token=Tok3n-Value`;

test('credentials and a signed query never reach a message: 404, a stall, a broken body', async () => {
  let authorization: string | undefined;
  const base = await serve(
    createHttpServer((req, res) => {
      authorization = req.headers.authorization;
      if (req.url?.startsWith('/missing')) res.writeHead(404).end(`no ${req.url}`);
      else if (req.url?.startsWith('/short')) res.writeHead(200, { 'content-length': '100' }).end('x');
      // /stall: never answers
    }),
  );
  const missing = await failure(secretUrl(base, '/missing'));
  expect(authorization).toBe(`Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}`);
  expect(missing.message).toBe(`GET ${base}/missing?X-Amz-Signature=***&token=***: 404 Not Found`);
  const stalled = await failure(secretUrl(base, '/stall'));
  expect(stalled.message).toBe(`GET ${base}/stall?X-Amz-Signature=***&token=***: no response within 0.2 s`);
  const short = await get(secretUrl(base, '/short'));
  const broken = (await text(short.body).catch((e: unknown) => e)) as FetchFailed;
  expect(broken).toBeInstanceOf(FetchFailed);
  for (const message of [missing.message, stalled.message, broken.message]) {
    for (const secret of SECRETS) expect(message).not.toContain(secret);
  }
});

test('redirects: a chain of 10 is followed (credentials stay on their origin); an 11th is refused; a loop too', async () => {
  const seen: { path: string; auth: string | undefined }[] = [];
  const other = await serve(
    createHttpServer((req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      res.writeHead(200).end('elsewhere');
    }),
  );
  const base = await serve(
    createHttpServer((req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const n = Number(/^\/chain\/(\d+)$/.exec(path)?.[1] ?? 0);
      if (path === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (path === '/away') res.writeHead(307, { location: `${other}/there?sig=${SIGNATURE}` }).end();
      else if (n > 0) res.writeHead(n % 2 ? 302 : 301, { location: `/chain/${n - 1}` }).end();
      else res.writeHead(200).end('arrived');
    }),
  );
  const ten = await get(`${base}/chain/10`);
  expect(await text(ten.body)).toBe('arrived');
  expect(ten.url.href).toBe(`${base}/chain/0`);
  expect(seen).toHaveLength(11);

  const eleven = await failure(`${base}/chain/11`);
  expect(eleven.message).toBe(`GET ${base}/chain/11: more than 10 redirects`);
  expect((await failure(`${base}/loop`)).message).toBe(`GET ${base}/loop: more than 10 redirects`);

  seen.length = 0;
  const away = await get(secretUrl(base, '/away'));
  expect(await text(away.body)).toBe('elsewhere');
  expect(seen.map((s) => s.auth !== undefined)).toEqual([true, false]);
});

test('a redirect to another scheme is refused, naming the target redacted', async () => {
  const base = await serve(
    createHttpServer((_req, res) => res.writeHead(302, { location: `ftp://u:${PASSWORD}@example.com/f` }).end()),
  );
  const err = await failure(`${base}/f`);
  expect(err.message).toBe(`GET ${base}/f: redirected to unsupported URL ftp://example.com/f`);
});
