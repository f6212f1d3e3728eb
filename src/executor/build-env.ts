/**
 * BuildEnv: everything a build takes from the outside world, passed in explicitly (house
 * rule 4): options, logger, clock, environment, temp dir, cancellation and output.
 */
import type { Readable } from 'node:stream';
import type { BuildOptions } from '../config/options.js';
import type { Logger } from '../log.js';
import type { Platform } from '../oci/platform.js';
import type { Ownership } from '../rootfs/ownership.js';
import { readTrustedCas } from '../registry/index.js';

export interface BuildEnv {
  options: BuildOptions;
  logger: Logger;
  now: () => Date;
  /** The process environment (build args without values, SOURCE_DATE_EPOCH, DOCKER_CONFIG, PATH). */
  env: Record<string, string | undefined>;
  cwd: string;
  homeDir: string;
  /** Where the build's scratch directory (rootfs, blobs) is made when no --kaniko-dir is given. */
  tmpDir: string;
  signal: AbortSignal;
  /** The platform of this host, the default target platform. */
  hostPlatform: Platform;
  /** RUN output goes here as it comes (Kaniko prints it on stdout). */
  stepOutput: (chunk: Buffer) => void;
  version: string;
  /**
   * Standard input, read only by `--context tar://stdin` (issue 14); absent where there is none.
   * The CLI hands over `process.stdin` lazily, so that a build that does not read it never opens it.
   */
  readonly stdin?: Readable;
  /**
   * How owners are set in the stages' rootfses (rootfs/ownership.ts): lchown(2) when absent, as
   * in every real build; only the in-process tests, run without root, record them instead.
   */
  ownership?: Ownership;
  /**
   * The extra CAs of `SSL_CERT_DIR` and `NODE_EXTRA_CA_CERTS` (registry/trust.ts), read once by
   * `build()` for the registry clients, the credential helpers and the context fetch alike;
   * {@link buildTrustedCas} reads them when a caller made the BuildEnv without them.
   */
  trustedCas?: readonly string[];
}

/** The build's extra CAs: {@link BuildEnv.trustedCas}, else read from the environment now. */
export function buildTrustedCas(env: BuildEnv): readonly string[] {
  return (
    env.trustedCas ??
    readTrustedCas({ sslCertDir: env.env.SSL_CERT_DIR, nodeExtraCaCerts: env.env.NODE_EXTRA_CA_CERTS }, env.logger)
  );
}
