import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeCa, type CertFiles } from '../../test/support/certs.js';
import { silentLogger, type Logger } from '../log.js';
import { parseCertificates, readTrustedCas } from './trust.js';

let dir: string;
let one: CertFiles;
let two: CertFiles;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-trust-'));
  one = await makeCa(dir, 'one');
  two = await makeCa(dir, 'two');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A logger keeping its warnings. */
function warnings(): { logger: Logger; warned: string[] } {
  const warned: string[] = [];
  return { logger: { ...silentLogger, warn: (m: string) => warned.push(m) }, warned };
}

const subject = (pem: string): string => new X509Certificate(pem).subject;

describe('parseCertificates', () => {
  test('a bundle: every certificate, text around them ignored', () => {
    const r = parseCertificates(Buffer.from(`# my CAs\n${one.certPem}\nsome comment\n${two.certPem}`));
    expect(r.problems).toEqual([]);
    expect(r.certs.map(subject)).toEqual(['CN=Kiln test CA one', 'CN=Kiln test CA two']);
  });

  test('a DER certificate (a .crt exported from Windows) is taken as well', () => {
    const der = new X509Certificate(one.certPem).raw;
    expect(parseCertificates(der).certs.map(subject)).toEqual(['CN=Kiln test CA one']);
  });

  test('a file with no certificate, and a damaged certificate in a bundle, are problems', () => {
    expect(parseCertificates(Buffer.from('not a certificate\n'))).toEqual({
      certs: [],
      problems: ['it holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)'],
    });
    expect(parseCertificates(Buffer.from(one.keyPem)).problems).toHaveLength(1);
    const damaged = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const r = parseCertificates(Buffer.from(`${one.certPem}${damaged}`));
    expect(r.certs).toHaveLength(1);
    expect(r.problems).toEqual([expect.stringMatching(/^certificate 2 of 2 is not valid \(.+\)$/)]);
  });
});

describe('readTrustedCas', () => {
  test("the system's bundle beside its own files adds only what Node lacks, each once", async () => {
    // /etc/ssl/certs as update-ca-certificates leaves it: every CA as a file and all in one bundle.
    const sys = join(dir, 'system');
    await mkdir(sys);
    const nodeRoot = `${(rootCertificates[0] ?? '').replace(/\n/g, '\r\n')}\r\n`; // another wrapping
    await writeFile(join(sys, 'a-node-root.pem'), nodeRoot);
    await writeFile(join(sys, 'ca-certificates.crt'), `${nodeRoot}${one.certPem}`);
    await copyFile(one.cert, join(sys, 'one.pem'));
    const { logger, warned } = warnings();
    const certs = readTrustedCas({ sslCertDir: sys, nodeExtraCaCerts: join(sys, 'ca-certificates.crt') }, logger);
    expect(certs.map(subject)).toEqual(['CN=Kiln test CA one']);
    expect(warned).toEqual([]);
  });

  test("every *.crt and *.pem of each SSL_CERT_DIR directory, as Go reads Kaniko's /kaniko/ssl/certs", async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await mkdir(join(a, 'sub.crt'), { recursive: true });
    await mkdir(b);
    await copyFile(one.cert, join(a, 'my-registry-ca.crt'));
    await writeFile(join(a, 'README'), 'not read: not a certificate file name\n');
    await copyFile(two.cert, join(b, 'other.pem'));
    const { logger, warned } = warnings();
    const certs = readTrustedCas({ sslCertDir: `${a}::${join(dir, 'missing')}:${b}` }, logger);
    expect(certs.map(subject)).toEqual(['CN=Kiln test CA one', 'CN=Kiln test CA two']);
    expect(warned).toEqual([]);
  });

  test('a file that is not a certificate is named in a warning; the others are trusted', async () => {
    const d = join(dir, 'bad');
    await mkdir(d);
    await copyFile(one.cert, join(d, 'good.crt'));
    await writeFile(join(d, 'notes.crt'), 'hello\n');
    const { logger, warned } = warnings();
    expect(readTrustedCas({ sslCertDir: d }, logger).map(subject)).toEqual(['CN=Kiln test CA one']);
    expect(warned).toEqual([
      `SSL_CERT_DIR: ${join(d, 'notes.crt')} is not a valid PEM certificate file: it holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block); it is not trusted`,
    ]);
  });

  test('NODE_EXTRA_CA_CERTS is read too (an explicit CA list would drop it); none set, none read', () => {
    const { logger, warned } = warnings();
    expect(readTrustedCas({ nodeExtraCaCerts: two.cert }, logger).map(subject)).toEqual(['CN=Kiln test CA two']);
    expect(readTrustedCas({}, logger)).toEqual([]);
    expect(readTrustedCas({ nodeExtraCaCerts: join(dir, 'nope.pem') }, logger)).toEqual([]);
    expect(warned).toEqual([
      `NODE_EXTRA_CA_CERTS: cannot read ${join(dir, 'nope.pem')} (ENOENT); its certificates are not trusted`,
    ]);
  });
});
