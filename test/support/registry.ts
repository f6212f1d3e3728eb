/**
 * Starts the CNCF distribution registry (Debian package `docker-registry`) on 127.0.0.1 at a
 * free port with a temporary config and storage directory (ARCHITECTURE.md §10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, usable as the registry part of a reference. */
  host: string;
  port: number;
  /** Storage directory of the registry. */
  dir: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RegistryOptions {
  /** Extra YAML appended under the top level (e.g. an `auth:` block). */
  extraConfig?: string;
  /** Extra YAML lines appended inside the `http:` block (e.g. `  tls: …`). */
  extraHttp?: string;
  /**
   * PEM material for the readiness check of a TLS registry: the CA that signed its certificate,
   * and a client certificate and key when it demands mutual TLS (`clientcas`).
   */
  tls?: { ca?: string; cert?: string; key?: string };
  /**
   * Turns the registry's access log on and hands it each line (combined log format, one request a
   * line: method, path, status, bytes sent), e.g. to count the blob GETs of a build.
   */
  onAccessLog?: (line: string) => void;
}

/** Starts a registry and resolves once it answers `GET /v2/`. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-registry-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    `    disabled: ${opts.onAccessLog ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    opts.extraHttp ?? '',
    opts.extraConfig ?? '',
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);
  const onAccess = opts.onAccessLog;
  const child: ChildProcess = spawn('docker-registry', ['serve', configPath], {
    stdio: ['ignore', onAccess ? 'pipe' : 'ignore', 'pipe'],
  });
  // The access log goes to stdout (distribution's CombinedLoggingHandler), one line a request.
  if (onAccess && child.stdout) {
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onAccess);
    });
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const scheme = opts.extraHttp?.includes('tls:') ? 'https' : 'http';
  const deadline = Date.now() + 15_000;
  for (;;) {
    const done = await Promise.race([
      exited.then(() => true),
      opts.tls ? readyTls(port, opts.tls) : ready(scheme, port),
    ]);
    if (done === true) throw new Error(`docker-registry exited before it was ready: ${stderr}`);
    if (done === 'ok') break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not become ready on port ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function ready(scheme: string, port: number): Promise<'ok' | 'no'> {
  try {
    const res = await fetch(`${scheme}://127.0.0.1:${port}/v2/`);
    await res.arrayBuffer();
    return res.status === 200 || res.status === 401 ? 'ok' : 'no';
  } catch {
    return 'no';
  }
}

/** The readiness check over HTTPS with the test's own CA (and client certificate), never trusting blindly. */
async function readyTls(port: number, tls: NonNullable<RegistryOptions['tls']>): Promise<'ok' | 'no'> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/v2/', method: 'GET', ...tls, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 || res.statusCode === 401 ? 'ok' : 'no'));
    });
    req.on('error', () => resolve('no'));
    req.end();
  });
}
