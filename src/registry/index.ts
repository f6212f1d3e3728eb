/**
 * The registry adapter's public surface (ARCHITECTURE.md §3: `registry/` is the only importer of undici).
 */
export { RegistryClient, DEFAULT_RETRIES, type FetchedManifest, type ManifestHead } from './client.js';
export type {
  Credential,
  CredentialOrigin,
  CredentialProvider,
  RegistryClientOptions,
  RegistryTlsOptions,
  SleepFn,
} from './types.js';
export {
  dockerConfigCredentials,
  dockerConfigPath,
  parseDockerConfig,
  findAuthEntry,
  findHelper,
  DOCKER_HUB_SERVER,
  type DockerConfig,
  type DockerConfigOptions,
} from './credentials.js';
export { spawnHelperRunner, type CredentialHelperRunner, type HelperResult } from './credential-helper.js';
export { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
export { parseErrorBody, describeFailure, type RegistryErrorEntry } from './error-body.js';
export { Redactor, redactUrl, REDACTED } from './redact.js';
export { readTrustedCas, parseCertificates, type TrustSources } from './trust.js';
export { fetchStream, FetchFailed, type FetchedStream, type FetchOptions } from './http-fetch.js';
export { MAX_REDIRECTS } from './redirect.js';
export { TransientRegistryError, isRetryableFailure } from './failure.js';
export { realSleep, RetryLater, withRetries, backoffMs } from './retry.js';
export { retryOperation, type OperationRetries } from './retry-operation.js';
export { DEFAULT_CHUNK_SIZE, DEFAULT_CHUNKED_THRESHOLD } from './upload.js';
export type { BlobLocation, BlobSource } from './blobs.js';
export type { ManifestBody, ManifestTarget } from './manifests.js';
export { BucketFailure, ObjectGetFailed } from './bucket/get.js';
export type { BucketCredentialInputs } from './bucket/helper-context.js';
