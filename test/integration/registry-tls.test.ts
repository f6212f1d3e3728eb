/**
 * The registry client against the real distribution registry serving HTTPS with a self-signed
 * certificate (made by openssl): verified by default and refused with a clear message, accepted
 * with --skip-tls-verify or with the certificate given as a CA (--registry-certificate) or as a
 * file in an SSL_CERT_DIR directory; and a registry demanding client certificates
 * (--registry-client-cert).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { sha256Of } from '../../src/oci/digest.js';
import { silentLogger } from '../../src/log.js';
import { readTrustedCas, RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { testRegistryClient } from '../support/registry-client.js';
import { issueCert, makeCa, type CertFiles } from '../support/certs.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
let mtls: TestRegistry;
let dir: string;
let cert: string;
let ca: CertFiles;
let clientCert: CertFiles;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  cert = await readFile(certPath, 'utf8');
  reg = await startRegistry({
    extraHttp: ['  tls:', `    certificate: ${certPath}`, `    key: ${keyPath}`].join('\n'),
    tls: { ca: cert },
  });
  // Mutual TLS: a CA of our own signs the registry's and the client's certificates.
  ca = await makeCa(dir, 'mtls-ca');
  const server = await issueCert(ca, dir, 'mtls-registry', 'server');
  clientCert = await issueCert(ca, dir, 'mtls-client', 'client');
  mtls = await startRegistry({
    extraHttp: [
      '  tls:',
      `    certificate: ${server.cert}`,
      `    key: ${server.key}`,
      '    clientcas:',
      `      - ${ca.cert}`,
    ].join('\n'),
    tls: { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem },
  });
});

afterAll(async () => {
  await Promise.all([reg?.stop(), mtls?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function withClient<T>(opts: Partial<RegistryClientOptions>, fn: (c: RegistryClient) => Promise<T>): Promise<T> {
  const c = testRegistryClient({ insecure: () => false, ...opts });
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
    new RegExp(
      `^checking blob ${reg.host}/tls/app@sha256:[0-9a-f]{64}: cannot reach registry ${reg.host}: HTTPS: TLS handshake failed: self[- ]signed certificate; HTTP: plain HTTP answered 400$`,
    ),
  );
  expect((err as RegistryError).hint).toMatch(/--registry-certificate.*--skip-tls-verify/);
});

test('--skip-tls-verify for this registry accepts it', async () => {
  expect(
    await withClient({ skipTlsVerify: (r) => r === reg.host }, (c) => c.hasBlob(reg.host, 'tls/app', sha256Of('x'))),
  ).toBe(false);
});

test('the certificate given as an extra CA is trusted', async () => {
  expect(
    await withClient({ tls: (r) => (r === reg.host ? { ca: cert } : undefined) }, (c) =>
      c.hasBlob(reg.host, 'tls/app', sha256Of('x')),
    ),
  ).toBe(false);
});

test('skipping verification for another registry changes nothing here', async () => {
  const err = await withClient({ skipTlsVerify: (r) => r === 'other.example' }, (c) =>
    c.hasBlob(reg.host, 'tls/app', sha256Of('x')),
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
});

describe("SSL_CERT_DIR (Kaniko's image sets /kaniko/ssl/certs): every CA file in it is trusted", () => {
  /** A directory holding the registry's certificate as `my-registry-ca.crt`, as Kaniko's docs mount it. */
  async function certDir(withCa: boolean): Promise<string> {
    const d = await mkdtemp(join(dir, 'certs-'));
    if (withCa) await writeFile(join(d, 'my-registry-ca.crt'), cert);
    // Another CA beside it, as a real directory holds: it must not stop the registry's from counting.
    await writeFile(join(d, 'other-ca.pem'), ca.certPem);
    return d;
  }

  test('a push and a pull over TLS succeed with the CA in a directory of SSL_CERT_DIR', async () => {
    const trustedCas = readTrustedCas({ sslCertDir: `${await certDir(false)}:${await certDir(true)}` }, silentLogger);
    const bytes = Buffer.from('trusted through SSL_CERT_DIR\n');
    const digest = sha256Of(bytes);
    const got = await withClient({ trustedCas }, async (c) => {
      await c.uploadBlob(
        { registry: reg.host, repository: 'tls/certdir', digest },
        { size: bytes.length, open: async () => Readable.from([bytes]) },
      );
      const chunks: Buffer[] = [];
      for await (const chunk of await c.getBlob(reg.host, 'tls/certdir', digest)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString();
    });
    expect(got).toBe('trusted through SSL_CERT_DIR\n');
  });

  test('without it the handshake fails with the hint naming SSL_CERT_DIR', async () => {
    const trustedCas = readTrustedCas({ sslCertDir: await certDir(false) }, silentLogger);
    const err = await withClient({ trustedCas }, (c) => c.hasBlob(reg.host, 'tls/app', sha256Of('x'))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/HTTPS: TLS handshake failed: self[- ]signed certificate/);
    expect((err as RegistryError).hint).toMatch(/\(\*\.crt, \*\.pem\) in the directories of SSL_CERT_DIR/);
  });
});

describe('mutual TLS', () => {
  const tls = (withCert: boolean) => (r: string) =>
    r === mtls.host
      ? { ca: ca.certPem, ...(withCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}) }
      : undefined;

  test('the client certificate is presented', async () => {
    expect(await withClient({ tls: tls(true) }, (c) => c.hasBlob(mtls.host, 'mtls/app', sha256Of('x')))).toBe(false);
  });

  test('without one the registry hangs up; the hint names --registry-client-cert, after the retries', async () => {
    const sleep = vi.fn(async (_ms: number) => {});
    const err = await withClient({ tls: tls(false), sleep }, (c) =>
      c.hasBlob(mtls.host, 'mtls/app', sha256Of('x')),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^checking blob ${mtls.host}/mtls/app@sha256:[0-9a-f]{64}: cannot reach registry ${mtls.host}: HTTPS: connection closed unexpectedly`,
      ),
    );
    expect((err as RegistryError).hint).toBe(
      `a registry that requires a client certificate closes the connection like this: give one with --registry-client-cert ${mtls.host}=CERT,KEY`,
    );
    expect(sleep.mock.calls.map((x) => x[0])).toEqual([1000, 2000, 4000]);
  });
});
