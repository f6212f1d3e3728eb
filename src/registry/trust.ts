/**
 * The CA certificates every connection trusts besides Node's bundled roots (ARCHITECTURE.md §6):
 * the certificate files of each directory in `SSL_CERT_DIR` and the file `NODE_EXTRA_CA_CERTS`.
 *
 * Kaniko's image sets `SSL_CERT_DIR=/kaniko/ssl/certs`, and Go's crypto/x509 (root_unix.go) reads
 * every file of every directory in it (colon-separated, as OpenSSL's `X509_CERT_DIR` is), so its
 * users mount a directory holding `my-registry-ca.crt` there. Node reads neither, and an explicit
 * `ca` replaces its roots (NODE_EXTRA_CA_CERTS included), so Kiln reads both itself and adds them
 * to `tls.rootCertificates` (transport.ts). Files named `*.crt` or `*.pem` are read, the names
 * `update-ca-certificates` and `openssl rehash` use; a file that holds no valid certificate is
 * named in a warning, never handed to OpenSSL (whose own message names no file).
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { errnoCode } from '../errors.js';
import type { Logger } from '../log.js';

/** Where the extra CAs come from: the raw values of the environment variables. */
export interface TrustSources {
  /** `SSL_CERT_DIR`: directories, colon-separated. */
  sslCertDir?: string;
  /** `NODE_EXTRA_CA_CERTS`: one PEM file (Node adds it to its roots only when no `ca` is given). */
  nodeExtraCaCerts?: string;
}

/** The certificates of one file's text: each valid one as PEM, and why others were not taken. */
export interface ParsedCertificates {
  certs: string[];
  problems: string[];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;
const CERT_FILE = /\.(crt|pem)$/i;

function why(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The `ca` of a connection trusting Node's roots and `trusted` (an explicit `ca` replaces the
 * roots, so they come first), or undefined when there is nothing to add: Node's defaults then
 * apply, and no TLS context parses the roots again.
 */
export function withRoots<T extends string | Buffer>(trusted: readonly T[] | undefined): (string | T)[] | undefined {
  return trusted !== undefined && trusted.length > 0 ? [...rootCertificates, ...trusted] : undefined;
}

/** A PEM certificate's base64 body, whitespace and armour stripped: the same certificate, however wrapped. */
const pemBody = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

/**
 * The certificates in a file's bytes: every PEM `CERTIFICATE` block that parses (a bundle holds
 * many); failing that, the whole file as one DER certificate (a `.crt` exported from Windows).
 * A block whose body is in `known` is left out unparsed, and each one taken is added to it.
 */
export function parseCertificates(bytes: Buffer, known: Set<string> = new Set()): ParsedCertificates {
  const text = bytes.toString('latin1');
  const blocks = text.match(PEM_BLOCK) ?? [];
  const certs: string[] = [];
  const problems: string[] = [];
  blocks.forEach((block, i) => {
    const body = pemBody(block);
    if (known.has(body)) return;
    try {
      new X509Certificate(block);
      certs.push(block);
      known.add(body);
    } catch (err) {
      problems.push(`certificate ${i + 1} of ${blocks.length} is not valid (${why(err)})`);
    }
  });
  if (blocks.length === 0) {
    try {
      certs.push(new X509Certificate(bytes).toString());
    } catch {
      problems.push('it holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)');
    }
  }
  return { certs, problems };
}

/** The certificates of one file not in `known`; a file Kiln cannot use is named in a warning. */
function readCertFile(path: string, origin: string, logger: Logger, known: Set<string>): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    logger.warn(`${origin}: cannot read ${path} (${errnoCode(err) ?? why(err)}); its certificates are not trusted`);
    return [];
  }
  const { certs, problems } = parseCertificates(bytes, known);
  if (problems.length > 0) {
    const kept = certs.length > 0 ? `; its other ${certs.length} certificate(s) are trusted` : '; it is not trusted';
    logger.warn(`${origin}: ${path} is not a valid PEM certificate file: ${problems.join('; ')}${kept}`);
  }
  return certs;
}

/** The `*.crt` and `*.pem` files of one directory, sorted by name; a missing directory is none (as in Go). */
function certFiles(dir: string, logger: Logger): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') logger.debug(`SSL_CERT_DIR: ${dir} does not exist`);
    else logger.warn(`SSL_CERT_DIR: cannot read the directory ${dir} (${code ?? why(err)})`);
    return [];
  }
  const files: string[] = [];
  let skipped = 0;
  for (const name of names.sort()) {
    const path = join(dir, name);
    // Symlinks followed: update-ca-certificates links each CA into /etc/ssl/certs. Its hash
    // links (`5ad8a5d6.0`) are skipped by name: they lead to *.pem files read anyway.
    if (CERT_FILE.test(name) && isFile(path)) files.push(path);
    else skipped++;
  }
  if (skipped > 0) logger.debug(`SSL_CERT_DIR: ${dir}: ${skipped} entries skipped (not *.crt or *.pem files)`);
  return files;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The extra CA certificates of a build, as PEM: `NODE_EXTRA_CA_CERTS`, then every certificate
 * file in each `SSL_CERT_DIR` directory. Read once per build, when its registry clients are made.
 * A certificate Node already trusts, or one met before (a bundle beside the files it was made
 * from, as in /etc/ssl/certs), is left out: with the system's bundle in SSL_CERT_DIR, every build
 * parsed and re-added some 400 roots Node has anyway (0.4 s of each build, issue 16's `hello`).
 */
export function readTrustedCas(sources: TrustSources, logger: Logger): string[] {
  const known = new Set(rootCertificates.map(pemBody));
  const roots = known.size;
  const certs: string[] = [];
  if (sources.nodeExtraCaCerts)
    certs.push(...readCertFile(sources.nodeExtraCaCerts, 'NODE_EXTRA_CA_CERTS', logger, known));
  for (const dir of (sources.sslCertDir ?? '').split(':').filter((d) => d !== '')) {
    for (const file of certFiles(dir, logger)) certs.push(...readCertFile(file, 'SSL_CERT_DIR', logger, known));
  }
  if (certs.length > 0) logger.debug(`trusting ${certs.length} CA certificate(s) besides Node's ${roots} roots`);
  return certs;
}
