/**
 * The registry client against the real distribution registry serving HTTPS with a self-signed
 * certificate (made by openssl): verified by default and refused with a clear message, accepted
 * with --skip-tls-verify or with the certificate given as a CA (--registry-certificate).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { sha256Of } from '../../src/oci/digest.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
let dir: string;
let cert: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-keyout', keyPath, '-out', certPath,
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  cert = await readFile(certPath, 'utf8');
  // startRegistry's readiness probe uses the global fetch, which cannot be given our CA: let it
  // accept the self-signed certificate while it polls. Kiln's client ignores this variable.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    reg = await startRegistry({ extraHttp: ['  tls:', `    certificate: ${certPath}`, `    key: ${keyPath}`].join('\n') });
  } finally {
    delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  }
});

afterAll(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function withClient<T>(opts: Partial<RegistryClientOptions>, fn: (c: RegistryClient) => Promise<T>): Promise<T> {
  const c = new RegistryClient({
    logger: silentLogger,
    userAgent: 'kiln/test',
    insecure: () => false,
    skipTlsVerify: () => false,
    credentials: { get: async () => undefined },
    sleep: async () => {},
    ...opts,
  });
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

test('a self-signed certificate is refused by default, with a hint', async () => {
  const err = await withClient({}, (c) => c.hasBlob(reg.host, 'tls/app', sha256Of('x'))).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  // 127.0.0.1 may also try plain HTTP (go-containerregistry's loopback rule); the TLS failure leads.
  expect((err as Error).message).toMatch(
    new RegExp(`^checking blob ${reg.host}/tls/app@sha256:[0-9a-f]{64}: cannot reach registry ${reg.host}: HTTPS: TLS handshake failed: self[- ]signed certificate; HTTP: plain HTTP answered 400$`),
  );
  expect((err as RegistryError).hint).toMatch(/--registry-certificate.*--skip-tls-verify/);
});

test('--skip-tls-verify for this registry accepts it', async () => {
  expect(await withClient({ skipTlsVerify: (r) => r === reg.host }, (c) => c.hasBlob(reg.host, 'tls/app', sha256Of('x')))).toBe(false);
});

test('the certificate given as an extra CA is trusted', async () => {
  expect(await withClient({ tls: (r) => (r === reg.host ? { ca: cert } : undefined) }, (c) => c.hasBlob(reg.host, 'tls/app', sha256Of('x')))).toBe(false);
});

test('skipping verification for another registry changes nothing here', async () => {
  const err = await withClient({ skipTlsVerify: (r) => r === 'other.example' }, (c) => c.hasBlob(reg.host, 'tls/app', sha256Of('x'))).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
});
