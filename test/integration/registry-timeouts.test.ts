/**
 * Connect, header and body-idle timeouts of the registry client, against servers on 127.0.0.1
 * that stall: a timeout is a transient failure, retried under the usual policy (the sleeps are
 * injected and recorded, never real), and the final error names the registry, the timeout and
 * how many attempts were made. Each case is bounded by its elapsed time, never by a sleep.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect, onTestFinished, test } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { parseReference } from '../../src/oci/reference.js';
import { testRegistryClient } from '../support/registry-client.js';

const SHORT = { connectMs: 200, headersMs: 200, bodyMs: 200 };
/** undici's header and body timers tick about once a second: a timeout fires up to that much late. */
const PER_ATTEMPT_MS = 200 + 1000;

/** Closes `server` and every socket it accepted when the test ends. */
function cleanupServer(server: Server | HttpServer, sockets: Socket[]): void {
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
}

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function client(waits: number[]): ReturnType<typeof testRegistryClient> {
  const c = testRegistryClient({ timeouts: SHORT, retries: 2, sleep: async (ms) => void waits.push(ms) });
  onTestFinished(() => c.close());
  return c;
}

test('a registry that accepts connections and never answers times out, retried, naming the timeout and the attempts', async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s)); // accepts, never writes
  cleanupServer(server, sockets);
  const port = await listen(server);
  const waits: number[] = [];
  const started = Date.now();
  const err = await client(waits)
    .getManifest(parseReference(`127.0.0.1:${port}/app:1`))
    .catch((e: unknown) => e);
  const elapsed = Date.now() - started;
  expect(err).toBeInstanceOf(RegistryError);
  const message = (err as Error).message;
  expect(message).toContain(`cannot reach registry 127.0.0.1:${port}`);
  // HTTPS first (the TLS handshake never completes), then plain HTTP (no headers ever come).
  expect(message).toContain('HTTPS: connection timed out after 0.2 s (3 attempts)');
  expect(message).toContain('HTTP: timed out waiting for the registry to answer after 0.2 s (3 attempts)');
  expect(waits).toEqual([1000, 2000, 1000, 2000]);
  expect(sockets.length).toBe(6);
  expect(elapsed).toBeLessThan(6 * PER_ATTEMPT_MS + 3000);
});

test('a response body that stalls times out between chunks and is retried', async () => {
  const sockets: Socket[] = [];
  let manifestRequests = 0;
  const server = createHttpServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    manifestRequests++;
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '1000' });
    res.write('{"schemaVersion": 2,'); // then nothing more
  });
  server.on('connection', (s) => sockets.push(s));
  cleanupServer(server, sockets);
  const port = await listen(server);
  const waits: number[] = [];
  const started = Date.now();
  const err = await client(waits)
    .getManifest(parseReference(`127.0.0.1:${port}/app:1`))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).exitCode).toBe(4);
  expect((err as Error).message).toMatch(
    new RegExp(
      `cannot reach registry 127\\.0\\.0\\.1:${port}: timed out reading the response after 0\\.2 s \\(3 attempts\\)`,
    ),
  );
  expect(manifestRequests).toBe(3);
  expect(waits).toEqual([1000, 2000]);
  expect(Date.now() - started).toBeLessThan(3 * PER_ATTEMPT_MS + 3000);
});
