/**
 * A Git server for tests on 127.0.0.1: git's own smart HTTP server (`git http-backend`) run as a
 * CGI program by a small Node server, over HTTPS with a test certificate (or plain HTTP), behind
 * basic auth. Repositories are the bare repositories under `root`.
 */
import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A running Git server. */
export interface GitServer {
  /** `127.0.0.1:PORT`, what a `git://` context names. */
  host: string;
  /** Each request's method, path and whether it carried an Authorization header. */
  requests: { method: string; path: string; authorized: boolean }[];
  stop(): Promise<void>;
}

/** Options of {@link startGitServer}. */
export interface GitServerOptions {
  /** The directory holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** Server certificate and key (PEM) for HTTPS; plain HTTP without. */
  tls?: { cert: string; key: string };
  /** Users and their passwords; anyone may read when absent. */
  users?: Record<string, string>;
}

function authorizedUser(req: IncomingMessage, users: Record<string, string> | undefined): string | undefined | false {
  if (!users) return undefined;
  const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return false;
  const plain = Buffer.from(m[1], 'base64').toString();
  const colon = plain.indexOf(':');
  const [user, pass] = colon < 0 ? [plain, ''] : [plain.slice(0, colon), plain.slice(colon + 1)];
  return users[user] === pass ? user : false;
}

/** Runs `git http-backend` for one request: the CGI environment in, its status, headers and body out. */
function cgi(req: IncomingMessage, res: ServerResponse, root: string, user: string | undefined): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    HOME: root,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: '127.0.0.1',
    // Protocol v2 is asked for in a header, which CGI passes as GIT_PROTOCOL.
    ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    ...(user ? { REMOTE_USER: user } : {}),
  };
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  child.stderr.resume();
  let head = Buffer.alloc(0);
  let started = false;
  child.stdout.on('data', (d: Buffer) => {
    if (started) return void res.write(d);
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString().split('\r\n')) {
      const colon = line.indexOf(':');
      const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.once('close', () => (started ? res.end() : res.writeHead(500).end('http-backend failed\n')));
}

/** Starts a Git server on 127.0.0.1 (an ephemeral port). */
export async function startGitServer(opts: GitServerOptions): Promise<GitServer> {
  const requests: GitServer['requests'] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const user = authorizedUser(req, opts.users);
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorized: req.headers.authorization !== undefined,
    });
    if (user === false) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('authentication required\n');
      return;
    }
    cgi(req, res, opts.root, user);
  };
  const server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
