/**
 * The timeouts of `ADD <url>` downloads, against servers on 127.0.0.1 that stall: no answer at
 * all, headers then silence. Bounded by elapsed time, never by a sleep.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterEach, expect, test } from 'vitest';
import { DownloadFailed, openDownload } from './http-download.js';

const SHORT = { connectMs: 200, headersMs: 200, bodyMs: 200 };
const servers: { server: Server | HttpServer; sockets: Socket[] }[] = [];

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

test('a server that never answers: a timed-out DownloadFailed naming the wait', async () => {
  const base = await serve(createServer(() => undefined));
  const started = Date.now();
  const err = await openDownload(new URL(`${base}/f`), new AbortController().signal, SHORT).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DownloadFailed);
  expect((err as DownloadFailed).message).toBe(`GET ${base}/f: no response within 0.2 s`);
  expect((err as DownloadFailed).extra.timedOut).toBe(true);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a body that stalls errors the stream with a timed-out DownloadFailed', async () => {
  const base = await serve(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
    }),
  );
  const started = Date.now();
  const dl = await openDownload(new URL(`${base}/f`), new AbortController().signal, SHORT);
  const err = await text(dl.body).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DownloadFailed);
  expect((err as DownloadFailed).message).toBe('no data for 0.2 s');
  expect((err as DownloadFailed).extra.timedOut).toBe(true);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a refused request carries its status; a whole body is read as before', async () => {
  const base = await serve(
    createHttpServer((req, res) => {
      if (req.url === '/missing') res.writeHead(503).end();
      else res.writeHead(200, { 'content-length': '5' }).end('hello');
    }),
  );
  const err = await openDownload(new URL(`${base}/missing`), new AbortController().signal, SHORT).catch((e: unknown) => e);
  expect((err as DownloadFailed).extra).toMatchObject({ status: 503 });
  const dl = await openDownload(new URL(`${base}/ok`), new AbortController().signal, SHORT);
  expect(await text(dl.body)).toBe('hello');
});
