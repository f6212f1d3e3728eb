/**
 * Public option and credential types of the registry client (ARCHITECTURE.md §6). Kept apart from the
 * client so that callers (CLI wiring, tests) can build options without pulling in undici.
 */
import type { Logger } from '../log.js';

/**
 * Credentials for one registry, shaped like an entry of Docker's `config.json` after decoding:
 * `username`/`password` for Basic auth and token-server logins, `identityToken` for the OAuth2
 * refresh-token flow (docker login with an identity provider), `registryToken` used directly as
 * a bearer token (Docker's `registrytoken`).
 */
export interface Credential {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

/**
 * Where a registry's credentials were looked for, for the message of a refused request (never the
 * credentials themselves): the Docker config file and, when it names one, the credential helper.
 */
export interface CredentialOrigin {
  /** The config.json that was read, or looked for when `found` is false. */
  path: string;
  /** Whether that file exists. */
  found: boolean;
  /** The helper program config.json names for the registry (`docker-credential-NAME`), if any. */
  helper?: string;
  /** Whether the credentials came from that helper rather than from `auths`. */
  fromHelper?: boolean;
}

/** Where credentials come from; `registry` is `host[:port]` as in a reference (`docker.io` for Docker Hub). */
export interface CredentialProvider {
  get(registry: string): Promise<Credential | undefined>;
  /** Where {@link get} looked for `registry`'s credentials; asked after `get`, when a request was refused. */
  origin?(registry: string): Promise<CredentialOrigin | undefined>;
}

/** TLS material for one registry (Kaniko's `--registry-certificate` and `--registry-client-cert`). */
export interface RegistryTlsOptions {
  /** Extra CA certificates (PEM) trusted for this registry, in addition to the system ones. */
  ca?: string | Buffer;
  /** Client certificate (PEM) for mutual TLS. */
  cert?: string | Buffer;
  /** Client key (PEM) for mutual TLS. */
  key?: string | Buffer;
}

/**
 * How long a request may wait, in milliseconds: for the connection (TCP and TLS handshake), for
 * the response headers once the request is sent, and between two chunks of a response body.
 * undici's own defaults are 10 s to connect and 300 s for the other two.
 */
export interface NetworkTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

/** How long to wait before a retry; injectable so that tests never sleep. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Options of {@link RegistryClient}. Every input is passed in: no environment or home directory reads. */
export interface RegistryClientOptions {
  logger: Logger;
  /** Sent as `User-Agent`, e.g. `kiln/0.1.0`. */
  userAgent: string;
  /** Registries (host[:port]) that may be spoken to over plain HTTP (Kaniko --insecure / --insecure-pull / --insecure-registry). */
  insecure: (registry: string) => boolean;
  /** Registries whose TLS certificate is not verified (--skip-tls-verify…). */
  skipTlsVerify: (registry: string) => boolean;
  credentials: CredentialProvider;
  /** Retries of idempotent requests on 408/429/5xx and connection resets. Default 3. */
  retries?: number;
  /** Waits between retries; default a real timer that honours the signal. */
  sleep?: SleepFn;
  /** Milliseconds since the epoch; used for token expiry. Default `Date.now`. */
  now?: () => number;
  /** Extra CA / client certificate per registry (--registry-certificate, --registry-client-cert). */
  tls?: (registry: string) => RegistryTlsOptions | undefined;
  /** CA certificates (PEM) trusted for every host besides Node's roots: SSL_CERT_DIR's (see `readTrustedCas`). */
  trustedCas?: readonly string[];
  /** Connect, header and body-idle timeouts of every request (default 30 s to connect, 60 s for headers and between body chunks). */
  timeouts?: NetworkTimeouts;
  /** Blobs larger than this many bytes are uploaded in chunks (default 64 MiB). */
  chunkedUploadThreshold?: number;
  /** Bytes per chunk of a chunked upload (default 32 MiB, or the registry's minimum if larger). */
  chunkSize?: number;
}
