/**
 * How an Azure blob read through `@azure/storage-blob` fails: a local server (a FAKE of the blob
 * endpoint that checks nothing) cuts the body, goes quiet, or never answers; a closed port is
 * unreachable. The context fetcher retries what these errors call transient (context-object.ts).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Redactor } from '../redact.js';
import { openAzureBlob } from './azure-blob.js';
import { BucketFailure, ObjectGetFailed } from './get.js';

const KEY = Buffer.from('kiln-azure-unit-key-0123456789').toString('base64');
let server: Server;
let port = 0;
const sockets = new Set<Socket>();
const routes: Record<string, (res: ServerResponse) => void> = {
  '/acct/c/whole': (res) => {
    res.writeHead(200, { 'content-length': '5', 'x-ms-blob-type': 'BlockBlob', etag: '"0x1"' });
    res.end('bytes');
  },
  '/acct/c/cut': (res) => {
    res.writeHead(200, { 'content-length': '1000', 'x-ms-blob-type': 'BlockBlob', etag: '"0x1"' });
    res.write(Buffer.alloc(100));
    setTimeout(() => res.socket?.destroy(), 20);
  },
  '/acct/c/quiet': (res) => {
    res.writeHead(200, { 'content-length': '1000', 'x-ms-blob-type': 'BlockBlob', etag: '"0x1"' });
    res.write(Buffer.alloc(100));
  },
  '/acct/c/busy': (res) => {
    res.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy' });
    res.end('<?xml version="1.0"?><Error><Code>ServerBusy</Code><Message>Busy.</Message></Error>');
  },
  '/acct/c/silent': () => undefined,
};

beforeAll(async () => {
  server = createServer((req, res) => routes[(req.url ?? '').split('?')[0] ?? '']?.(res));
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : 0;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  return new Promise<void>((r) => server.close(() => r()));
});

const open = (blob: string, o: { port?: number; ms?: number } = {}): Promise<Readable> => {
  const ms = o.ms ?? 5_000;
  return openAzureBlob(
    { account: 'acct', container: 'c', blob },
    {
      env: {
        AZURE_STORAGE_CONNECTION_STRING: `AccountName=acct;BlobEndpoint=http://127.0.0.1:${o.port ?? port}/acct`,
        AZURE_STORAGE_ACCESS_KEY: KEY,
      },
      homeDir: '/nonexistent',
      redactor: new Redactor(),
    },
    { signal: new AbortController().signal, timeouts: { connectMs: ms, headersMs: ms, bodyMs: ms } },
  );
};
/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a ? a.port : 0;
}
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );

test('a whole body arrives as it is', async () => {
  expect(await text(await open('whole'))).toBe('bytes');
});

test('a body cut midway, or silent for the network timeout, fails as a download the fetcher retries', async () => {
  const cut = await rejection(text(await open('cut')));
  expect(cut).toBeInstanceOf(ObjectGetFailed);
  expect((cut as Error).message).toMatch(/^downloading: /);
  const quiet = await rejection(text(await open('quiet', { ms: 300 })));
  expect(quiet).toBeInstanceOf(ObjectGetFailed);
  expect((quiet as Error).message).toBe('downloading: no data for 0.3 s');
});

test('a busy store keeps its status (transient); no answer or no server is one line naming the endpoint', async () => {
  const busy = await rejection(open('busy'));
  expect(busy).toBeInstanceOf(BucketFailure);
  expect((busy as BucketFailure).message).toMatch(/^Azure storage account acct answered \(503 ServerBusy/);
  expect(((busy as BucketFailure).cause as ObjectGetFailed).extra.status).toBe(503);
  const silent = await rejection(open('silent', { ms: 150 }));
  expect((silent as Error).message).toBe(`Azure Blob Storage at http://127.0.0.1:${port}: no response within 0.3 s`);
  const closed = await closedPort();
  const refused = await rejection(open('whole', { port: closed }));
  expect((refused as Error).message).toBe(`Azure Blob Storage at http://127.0.0.1:${closed}: connection refused`);
});
