/**
 * An in-process registry for fault injection only (ARCHITECTURE.md §10): a proxy in front of a real
 * `docker-registry` that passes everything through except the requests a test's rules pick, which
 * get a status (503, 429 with Retry-After, a registry error body), a dropped connection, a body
 * cut short or corrupted, or a redirect to another host. Optionally it demands Basic auth itself
 * (the registry behind it is anonymous), to see where credentials travel.
 */
import { Buffer } from 'node:buffer';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

/** A request the fake received. */
export interface FakeRequest {
  method: string;
  /** Path and query, e.g. `/v2/base/busybox/blobs/sha256:…`. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** What to do instead of (or to) the real registry's answer. */
export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** Close the connection without answering. */
  | { kind: 'reset' }
  /** Send the real headers and the first `after` bytes of the body, then close the connection. */
  | { kind: 'reset-mid-body'; after: number }
  /** Send the first `after` bytes of the body without a Content-Length, then end the response cleanly. */
  | { kind: 'truncate'; after: number }
  /** Send the real body with one byte changed in the middle (same length). */
  | { kind: 'corrupt' }
  /** Answer 307 to the same path on another origin (blob storage). */
  | { kind: 'redirect'; origin: string };

/** Picks a fault for a request, or undefined to pass it through. */
export type FaultRule = (req: FakeRequest) => Fault | undefined;

/** A rule applying `fault` to the first `n` requests that `match`. */
export function times(n: number, match: (req: FakeRequest) => boolean, fault: Fault): FaultRule {
  let left = n;
  return (req) => {
    if (left <= 0 || !match(req)) return undefined;
    left--;
    return fault;
  };
}

/** Matchers for the usual targets. */
export const is = {
  manifestGet: (r: FakeRequest): boolean => r.method === 'GET' && r.url.includes('/manifests/'),
  manifestPut: (r: FakeRequest): boolean => r.method === 'PUT' && r.url.includes('/manifests/'),
  blobGet:
    (digest?: string) =>
    (r: FakeRequest): boolean =>
      r.method === 'GET' && r.url.includes('/blobs/sha256:') && (digest === undefined || r.url.includes(digest)),
};

export interface FakeRegistryOptions {
  /** `127.0.0.1:PORT` of the real registry behind the fake (plain HTTP, anonymous). */
  upstream: string;
  rules?: FaultRule[];
  /** Demand these Basic credentials on every request, as a registry with htpasswd would. */
  basicAuth?: { username: string; password: string };
}

export interface FakeRegistry {
  host: string;
  origin: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

function respond(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  // Read the request body first, so that an upload sees the answer rather than a broken pipe.
  req.resume();
  req.on('end', () => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  });
}

/** Streams the real response, applying a body fault. */
function relay(upstream: IncomingMessage, res: ServerResponse, fault: Fault | undefined): void {
  const headers = { ...upstream.headers };
  const bodyFault = upstream.statusCode === 200 || upstream.statusCode === 206 ? fault : undefined;
  if (bodyFault?.kind === 'truncate') delete headers['content-length'];
  res.writeHead(upstream.statusCode ?? 502, headers);
  if (
    bodyFault === undefined ||
    (bodyFault.kind !== 'reset-mid-body' && bodyFault.kind !== 'truncate' && bodyFault.kind !== 'corrupt')
  ) {
    upstream.pipe(res);
    return;
  }
  const total = Number(upstream.headers['content-length'] ?? 0);
  const flipAt = Math.floor(total / 2);
  let seen = 0;
  let done = false;
  upstream.on('data', (chunk: Buffer) => {
    if (done) return;
    if (bodyFault.kind === 'corrupt') {
      const copy = Buffer.from(chunk);
      if (flipAt >= seen && flipAt < seen + copy.length) copy[flipAt - seen] = (copy[flipAt - seen] ?? 0) ^ 0xff;
      seen += copy.length;
      res.write(copy);
      return;
    }
    const room = bodyFault.after - seen;
    seen += chunk.length;
    if (chunk.length < room) {
      res.write(chunk);
      return;
    }
    done = true;
    upstream.destroy();
    res.write(chunk.subarray(0, room), () => {
      if (bodyFault.kind === 'truncate') res.end();
      else res.socket?.destroy();
    });
  });
  upstream.on('end', () => {
    if (!done) res.end();
  });
}

/** Starts the fake on 127.0.0.1 at a free port. */
export async function startFakeRegistry(opts: FakeRegistryOptions): Promise<FakeRegistry> {
  const requests: FakeRequest[] = [];
  const [upHost = '127.0.0.1', upPort = '80'] = opts.upstream.split(':');
  const expectedAuth = opts.basicAuth
    ? `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`
    : undefined;
  const server = createServer((req, res) => {
    const rec: FakeRequest = { method: req.method ?? '', url: req.url ?? '/', headers: req.headers };
    requests.push(rec);
    if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
      return respond(
        req,
        res,
        401,
        { 'www-authenticate': 'Basic realm="fake"' },
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      );
    }
    const fault = opts.rules?.map((r) => r(rec)).find((f) => f !== undefined);
    if (fault?.kind === 'status') return respond(req, res, fault.status, fault.headers ?? {}, fault.body);
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'redirect') return respond(req, res, 307, { location: `${fault.origin}${rec.url}` }, undefined);
    const headers = { ...req.headers };
    delete headers.authorization; // the registry behind is anonymous; the fake did the checking
    const up = request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (upRes) =>
      relay(upRes, res, fault),
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
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
