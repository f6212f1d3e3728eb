/**
 * Kiln's OCI distribution client (ARCHITECTURE.md §6): the one object the rest of Kiln uses to talk
 * to registries. One undici Agent per client; every cache (endpoints, credentials, tokens,
 * secrets to redact) lives in the instance, never in module state.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { Reference } from '../oci/reference.js';
import { Authenticator } from './auth.js';
import * as blobs from './blobs.js';
import type { BlobLocation, BlobSource } from './blobs.js';
import * as manifests from './manifests.js';
import type { ManifestBody, ManifestTarget } from './manifests.js';
import { Redactor } from './redact.js';
import { realSleep } from './retry.js';
import { Session } from './session.js';
import { Transport } from './transport.js';
import type { RegistryClientOptions } from './types.js';
import { startStreamingUpload, type StreamingUpload } from './streaming-upload.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_CHUNKED_THRESHOLD, uploadBlob } from './upload.js';

export type { FetchedManifest, ManifestHead } from './manifests.js';

/** Default number of retries of idempotent requests. */
export const DEFAULT_RETRIES = 3;

/** A registry client. Call {@link RegistryClient.close} when done to release pooled connections. */
export class RegistryClient {
  private readonly transport: Transport;
  private readonly session: Session;
  private readonly redactor = new Redactor();
  private readonly blobEnv: blobs.UploadEnv;

  constructor(opts: RegistryClientOptions) {
    const now = opts.now ?? Date.now;
    const retries = opts.retries ?? DEFAULT_RETRIES;
    const sleep = opts.sleep ?? realSleep;
    this.transport = new Transport(
      {
        skipVerify: opts.skipTlsVerify,
        ...(opts.tls ? { extra: opts.tls } : {}),
        ...(opts.trustedCas ? { trusted: opts.trustedCas } : {}),
      },
      opts.timeouts,
    );
    const auth = new Authenticator({
      dispatcher: this.transport.agent,
      credentials: opts.credentials,
      redactor: this.redactor,
      logger: opts.logger,
      userAgent: opts.userAgent,
      now,
    });
    this.session = new Session({
      transport: this.transport,
      auth,
      redactor: this.redactor,
      logger: opts.logger,
      userAgent: opts.userAgent,
      insecure: opts.insecure,
      retries,
      sleep,
      now,
    });
    this.blobEnv = {
      session: this.session,
      redactor: this.redactor,
      logger: opts.logger,
      retries,
      sleep,
      chunkThreshold: opts.chunkedUploadThreshold ?? DEFAULT_CHUNKED_THRESHOLD,
      chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE,
    };
  }

  /**
   * GET a manifest or index by tag or digest with Accept for OCI+Docker types; verifies the bytes
   * against the digest when fetched by digest (IntegrityError otherwise); returns the bytes, media
   * type (header, else the document's mediaType field, else inferred) and sha256 digest of the bytes.
   */
  getManifest(ref: Reference, signal?: AbortSignal): Promise<manifests.FetchedManifest> {
    return manifests.getManifest(this.session, this.redactor, ref, signal);
  }

  /** HEAD a manifest: digest, media type and size, or undefined when the registry does not have it. */
  headManifest(ref: Reference, signal?: AbortSignal): Promise<manifests.ManifestHead | undefined> {
    return manifests.headManifest(this.session, this.redactor, ref, signal);
  }

  /**
   * GET a blob's body as a Readable, following redirects to blob storage WITHOUT sending
   * Authorization to another host, and resuming with a Range request when the connection breaks
   * (`size`, when given, also resumes a body that ends short). Not digest-verified here (callers
   * pipe through stream/verify.ts). The caller must consume or destroy the stream.
   */
  getBlob(
    registry: string,
    repository: string,
    blob: string | { digest: string; size: number },
    signal?: AbortSignal,
  ): Promise<Readable> {
    const { digest, size } = typeof blob === 'string' ? { digest: blob, size: undefined } : blob;
    return blobs.getBlob(this.blobEnv, { registry, repository, digest }, size, signal);
  }

  /** HEAD a blob: whether the repository has it. */
  hasBlob(registry: string, repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    return blobs.hasBlob(this.blobEnv, { registry, repository, digest }, signal);
  }

  /** Cross-repository mount (POST ?mount=&from=); true when 201, false when the registry started an upload instead (which is cancelled). */
  mountBlob(loc: BlobLocation, fromRepository: string, signal?: AbortSignal): Promise<boolean> {
    return blobs.mountBlob(this.blobEnv, loc, fromRepository, signal);
  }

  /**
   * Uploads a blob: POST an upload, then a monolithic PUT ?digest= with the stream as body for
   * blobs up to the chunking threshold, or PATCH chunks (resumed after a failure) then PUT above
   * it. `open` is called again for every retry. A stream of another length fails with an IntegrityError.
   */
  uploadBlob(loc: BlobLocation, blob: BlobSource, signal?: AbortSignal): Promise<void> {
    return uploadBlob(this.blobEnv, loc, blob, signal);
  }

  /** PUT a manifest under a tag or digest; returns the digest the registry reports (Docker-Content-Digest) or sha256 of bytes. */
  /**
   * Starts an upload whose digest is known only at its end (streaming-upload.ts): write the bytes
   * to `input`, then `finish(digest, size)`. Not retried; on failure, upload the blob again with
   * {@link uploadBlob}.
   */
  startStreamingUpload(registry: string, repository: string, signal?: AbortSignal): Promise<StreamingUpload> {
    return startStreamingUpload(this.blobEnv, registry, repository, signal);
  }

  putManifest(target: ManifestTarget, manifest: ManifestBody, signal?: AbortSignal): Promise<Digest> {
    return manifests.putManifest(this.session, target, manifest, signal);
  }

  /** Kaniko's push-permission check: start an upload and cancel it (DELETE); throws RegistryError (unauthorized/denied) if not allowed. */
  checkPushAccess(registry: string, repository: string, signal?: AbortSignal): Promise<void> {
    return blobs.checkPushAccess(this.blobEnv, registry, repository, signal);
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.transport.close();
  }
}
