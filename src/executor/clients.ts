/**
 * The registry clients of one build: one for pulls and one for pushes, since Kaniko's
 * insecure/TLS flags differ between the two. Both read credentials from the Docker config and
 * trust the `--registry-certificate` CAs and present the `--registry-client-cert` certificates.
 * Every connection also trusts the CA files of `SSL_CERT_DIR` (Kaniko's image sets it) and
 * `NODE_EXTRA_CA_CERTS`, read once here from the build's environment.
 * The pull and push policies carry the mirror, retry and immutable-tag flags to the image
 * source and sink.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errnoCode, UsageError } from '../errors.js';
import type { PullPolicy } from '../image/registry-source.js';
import type { PushPolicy } from '../image/registry-sink.js';
import { dockerConfigCredentials } from '../registry/credentials.js';
import { RegistryClient } from '../registry/client.js';
import { realSleep, type RegistryTlsOptions, type SleepFn } from '../registry/index.js';
import { buildTrustedCas, type BuildEnv } from './build-env.js';

export interface RegistryClients {
  pull: RegistryClient;
  push: RegistryClient;
  /** For the registry source (`registrySource`): mirrors, `--image-download-retry`, `--skip-default-registry-fallback`. */
  pullPolicy: PullPolicy;
  /** For the registry sink (`registrySink`): `--push-retry`, `--push-ignore-immutable-tag-errors`. */
  pushPolicy: PushPolicy;
  /** The CA certificates both clients trust besides Node's roots (SSL_CERT_DIR…), for `ADD <url>` too. */
  trustedCas: readonly string[];
  close(): Promise<void>;
}

/** Reads a PEM file named by a flag; a missing or malformed file is a usage error naming the flag. */
function readPem(flag: string, path: string, check: (pem: string) => void): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const why =
      errnoCode(err) === 'ENOENT'
        ? 'no such file'
        : errnoCode(err) === 'EACCES'
          ? 'permission denied'
          : (errnoCode(err) ?? String(err));
    throw new UsageError(`${flag}: cannot read ${path}: ${why}`);
  }
  try {
    check(pem);
  } catch (err) {
    throw new UsageError(
      `${flag}: ${path} is not a usable PEM file: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return pem;
}

/** The TLS material of every registry named by `--registry-certificate` and `--registry-client-cert`, read once. */
function tlsMaterial(env: BuildEnv): Map<string, RegistryTlsOptions> {
  const o = env.options;
  const out = new Map<string, RegistryTlsOptions>();
  for (const [registry, file] of o.registryCertificates) {
    const ca = readPem('--registry-certificate', resolve(env.cwd, file), (pem) => new X509Certificate(pem));
    out.set(registry, { ...out.get(registry), ca });
  }
  for (const [registry, files] of o.registryClientCertificates) {
    const cert = readPem('--registry-client-cert', resolve(env.cwd, files.cert), (pem) => new X509Certificate(pem));
    const key = readPem('--registry-client-cert', resolve(env.cwd, files.key), (pem) => {
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(pem)))
        throw new Error(`the key does not belong to the certificate ${files.cert}`);
    });
    out.set(registry, { ...out.get(registry), cert, key });
  }
  return out;
}

/** Creates the build's clients; `sleep` (default a real timer) is injectable so tests never wait. */
export function createRegistryClients(env: BuildEnv, sleep: SleepFn = realSleep): RegistryClients {
  const o = env.options;
  const material = tlsMaterial(env);
  const trustedCas = buildTrustedCas(env);
  // The built-in credential helpers (registry/cloud/) trust the same CAs as the registry clients.
  const credentials = dockerConfigCredentials({ env: env.env, homeDir: env.homeDir, trustedCas });
  const ms = o.networkTimeoutMs;
  const timeouts = ms === undefined ? {} : { timeouts: { connectMs: ms, headersMs: ms, bodyMs: ms } };
  const common = {
    logger: env.logger,
    userAgent: `kiln/${env.version}`,
    credentials,
    sleep,
    tls: (r: string) => material.get(r),
    trustedCas,
    ...timeouts,
  };
  const pull = new RegistryClient({ ...common, insecure: o.insecurePull, skipTlsVerify: o.skipTlsVerifyPull });
  const push = new RegistryClient({ ...common, insecure: o.insecurePush, skipTlsVerify: o.skipTlsVerifyPush });
  return {
    pull,
    push,
    pullPolicy: {
      mirrors: (registry) => o.registryMaps.get(registry) ?? [],
      skipDefaultFallback: o.skipDefaultRegistryFallback,
      retries: o.imageDownloadRetry,
      sleep,
    },
    pushPolicy: { retries: o.pushRetry, sleep, ignoreImmutableTagErrors: o.pushIgnoreImmutableTagErrors },
    trustedCas,
    async close() {
      await Promise.all([pull.close(), push.close()]);
    },
  };
}
