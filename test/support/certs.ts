/**
 * A throwaway PKI made with openssl (ARCHITECTURE.md §10: "a self-signed CA made by openssl"): a test
 * CA, and certificates it signs for the registry's TLS (SAN IP:127.0.0.1), for clients (mutual
 * TLS) and for a token server's signing key. EC P-256 keys by default (fast to make); RSA when a
 * test needs RS256.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.js';

/** A certificate and its key, as files and as PEM text. */
export interface CertFiles {
  /** Path of the certificate (PEM). */
  cert: string;
  /** Path of the private key (PEM, unencrypted). */
  key: string;
  certPem: string;
  keyPem: string;
}

export type KeyType = 'ec' | 'rsa';

async function newKey(path: string, type: KeyType): Promise<void> {
  const args =
    type === 'ec'
      ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  await run('openssl', ['genpkey', ...args, '-out', path]);
}

async function loaded(cert: string, key: string): Promise<CertFiles> {
  return { cert, key, certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
}

/** Makes a self-signed CA named `name` in `dir`. */
export async function makeCa(dir: string, name = 'ca', type: KeyType = 'ec'): Promise<CertFiles> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await newKey(key, type);
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=Kiln test CA ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return loaded(cert, key);
}

/** What a certificate is for: a TLS server on 127.0.0.1, a TLS client, or signing tokens. */
export type CertUse = 'server' | 'client' | 'signing';

/** Issues a certificate named `name` signed by `ca`. */
export async function issueCert(
  ca: CertFiles,
  dir: string,
  name: string,
  use: CertUse,
  type: KeyType = 'ec',
): Promise<CertFiles> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  await newKey(key, type);
  await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`]);
  const lines = {
    server: [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
      'keyUsage=critical,digitalSignature,keyEncipherment',
    ],
    client: ['extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature,keyEncipherment'],
    signing: ['keyUsage=critical,digitalSignature'],
  }[use];
  await writeFile(ext, ['basicConstraints=CA:FALSE', ...lines].join('\n') + '\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return loaded(cert, key);
}
