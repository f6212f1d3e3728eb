/**
 * Issue 5 end to end, transport: the executor against the real registry serving HTTPS with a
 * certificate from a test CA made by openssl. Refused by default with a hint saying how to trust
 * it; trusted with `--registry-certificate` or a CA file in an `SSL_CERT_DIR` directory; accepted
 * unverified with `--skip-tls-verify(-pull)`;
 * and mutual TLS with `--registry-client-cert` against a registry demanding client certificates
 * (its refusal without one is in test/integration/registry-tls.test.ts, where retries need not wait).
 */
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pushBusybox, type BaseImage } from '../support/busybox.js';
import { issueCert, makeCa, type CertFiles } from '../support/certs.js';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { skopeo } from '../support/run.js';

let dir: string;
let ca: CertFiles;
let client: CertFiles;
let reg: TestRegistry;
let mtls: TestRegistry;
let base: BaseImage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-tls-'));
  ca = await makeCa(dir);
  const server = await issueCert(ca, dir, 'registry', 'server');
  client = await issueCert(ca, dir, 'client', 'client');
  const tls = ['  tls:', `    certificate: ${server.cert}`, `    key: ${server.key}`];
  reg = await startRegistry({ extraHttp: tls.join('\n'), tls: { ca: ca.certPem } });
  mtls = await startRegistry({
    extraHttp: [...tls, '    clientcas:', `      - ${ca.cert}`].join('\n'),
    tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem },
  });
  base = await pushBusybox(reg);
});

afterAll(async () => {
  await Promise.all([reg?.stop(), mtls?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A context whose Dockerfile copies one file onto `from`. */
async function context(from: string): Promise<string> {
  const ctx = await tempDir('tls-ctx');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${from}\nCOPY hello.txt /hello.txt\n`);
  await writeFile(join(ctx, 'hello.txt'), 'over TLS\n');
  return ctx;
}

describe('a registry with a certificate from a private CA', () => {
  test('is refused without the CA, with a hint naming --registry-certificate', async () => {
    const r = await runExecutor(['--context', await context(base.ref), '--no-push']);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(`^error: .*cannot reach registry ${reg.host}: HTTPS: TLS handshake failed: .*certificate`, 'm'),
    );
    expect(r.stderr).toContain(
      `hint: trust its CA with --registry-certificate ${reg.host}=/path/to/ca.pem, or skip verification with --skip-tls-verify-registry ${reg.host}`,
    );
  });

  test('is trusted with --registry-certificate REG=CA, for the pull and the push', async () => {
    const dest = `${reg.host}/tls/app:1`;
    const r = await runExecutor([
      '--context',
      await context(base.ref),
      '--destination',
      dest,
      '--registry-certificate',
      `${reg.host}=${ca.cert}`,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const image = await inspectImage({ registry: dest });
    try {
      expect(image.layers[0]).toBe(base.layers[0]);
      expect(await image.readFile('/hello.txt')).toBe('over TLS\n');
    } finally {
      await image.cleanup();
    }
  });

  test("is trusted through SSL_CERT_DIR, as Kaniko's image does: every CA file of the directory, a bad one named in a warning", async () => {
    // Kaniko's docs: mount a directory holding my-registry-ca.crt at /kaniko/ssl/certs.
    const certs = await tempDir('ssl-certs');
    await copyFile(ca.cert, join(certs, 'my-registry-ca.crt'));
    await writeFile(join(certs, 'notes.crt'), 'not a certificate\n');
    const dest = `${reg.host}/tls/certdir:1`;
    const r = await runExecutor(['--context', await context(base.ref), '--destination', dest], {
      env: { SSL_CERT_DIR: `${join(dir, 'missing')}:${certs}` },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `WARN SSL_CERT_DIR: ${join(certs, 'notes.crt')} is not a valid PEM certificate file: it holds no PEM certificate`,
    );
    expect(r.stderr).not.toMatch(/Ignoring extra certs/);
    const image = await inspectImage({ registry: dest });
    try {
      expect(await image.readFile('/hello.txt')).toBe('over TLS\n');
    } finally {
      await image.cleanup();
    }
  });

  test('a directory in SSL_CERT_DIR without the CA: refused, the hint naming SSL_CERT_DIR', async () => {
    const certs = await tempDir('ssl-certs');
    await makeCa(certs, 'unrelated');
    const r = await runExecutor(['--context', await context(base.ref), '--no-push'], {
      env: { SSL_CERT_DIR: certs },
    });
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/HTTPS: TLS handshake failed: .*certificate/);
    expect(r.stderr).toMatch(/^hint: .*CA files \(\*\.crt, \*\.pem\) in the directories of SSL_CERT_DIR/m);
  });

  test('is accepted unverified with --skip-tls-verify and --skip-tls-verify-pull', async () => {
    const r = await runExecutor([
      '--context',
      await context(base.ref),
      '--destination',
      `${reg.host}/tls/skip:1`,
      '--skip-tls-verify',
      '--skip-tls-verify-pull',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  test('a CA file that is not a certificate is a usage error', async () => {
    const bad = join(await tempDir('badca'), 'ca.pem');
    await writeFile(bad, 'not a certificate\n');
    const r = await runExecutor([
      '--context',
      await context(base.ref),
      '--no-push',
      '--registry-certificate',
      `${reg.host}=${bad}`,
    ]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: --registry-certificate: .*ca\.pem is not a usable PEM file/m);
  });
});

describe('a registry demanding client certificates', () => {
  const dockerfile = async (): Promise<string> => {
    const ctx = await tempDir('mtls-ctx');
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    await writeFile(join(ctx, 'hello.txt'), 'mutual\n');
    return ctx;
  };

  test('accepts a push with --registry-client-cert REG=CERT,KEY', async () => {
    const dest = `${mtls.host}/mtls/app:1`;
    const r = await runExecutor([
      '--context',
      await dockerfile(),
      '--destination',
      dest,
      '--registry-certificate',
      `${mtls.host}=${ca.cert}`,
      '--registry-client-cert',
      `${mtls.host}=${client.cert},${client.key}`,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    // skopeo's --cert-dir: *.crt are CAs, NAME.cert + NAME.key a client certificate.
    const certDir = await tempDir('skopeo-certs');
    await mkdir(certDir, { recursive: true });
    await copyFile(ca.cert, join(certDir, 'ca.crt'));
    await copyFile(client.cert, join(certDir, 'client.cert'));
    await copyFile(client.key, join(certDir, 'client.key'));
    const info = JSON.parse((await skopeo(['inspect', '--cert-dir', certDir, `docker://${dest}`])).toString()) as {
      Digest: string;
    };
    expect(r.stdout.trim().split('\n').at(-1)).toBe(info.Digest);
  });
});
