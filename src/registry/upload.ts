/**
 * Blob uploads (OCI distribution spec, "Pushing blobs"): a monolithic `POST` (end-4a) then
 * `PUT ?digest=` (end-6) with the whole stream as body for small blobs, and chunked `PATCH`es
 * (end-5, see chunked-upload.ts) for large ones, so that a dropped connection costs one chunk,
 * not the whole layer. Either way the bytes stream from their source, never held in memory.
 */
import { errnoCode } from '../errors.js';
import { repositoryScope } from './auth.js';
import {
  blobCtx,
  checked,
  lengthMismatch,
  startUpload,
  type BlobEnv,
  type BlobLocation,
  type BlobSource,
  type UploadEnv,
} from './blobs.js';
import { discard } from './body.js';
import { chunkedUpload } from './chunked-upload.js';
import { TransientRegistryError } from './failure.js';
import { appendQuery } from './paths.js';
import { RetryLater, withRetries } from './retry.js';

/** Blobs above this many bytes are uploaded in chunks; at or below it, in one request. */
export const DEFAULT_CHUNKED_THRESHOLD = 64 * 1024 * 1024;
/** Bytes per PATCH of a chunked upload (raised to the registry's `OCI-Chunk-Min-Length`). */
export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;

/** POST + monolithic PUT, the whole pair retried (after a failed PUT the session's state is unknown). */
async function monolithicUpload(
  env: BlobEnv,
  loc: BlobLocation,
  blob: BlobSource,
  signal?: AbortSignal,
): Promise<void> {
  const { size, open } = blob;
  const ctx = blobCtx('uploading blob', loc, 'upload');
  await withRetries(
    { retries: env.retries, sleep: env.sleep, ...(signal ? { signal } : {}), onRetry: env.session.logRetry(ctx) },
    async (canRetry) => {
      try {
        const { location } = await startUpload(env, {
          registry: loc.registry,
          repository: loc.repository,
          ctx,
          retry: false,
          signal,
        });
        const res = await env.session.send({
          registry: loc.registry,
          method: 'PUT',
          target: appendQuery(location, 'digest', loc.digest).toString(),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
          body: open,
          scopes: [repositoryScope(loc.repository, 'pull,push')],
          expect: [201],
          ctx,
          retry: false,
          signal,
        });
        await discard(res.body);
        return undefined;
      } catch (err) {
        if (errnoCode(err) === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') throw lengthMismatch(ctx, size, err);
        if (canRetry && err instanceof TransientRegistryError) return new RetryLater(err.message, err.retryAfterMs);
        throw err;
      }
    },
  );
}

/**
 * Uploads a blob of `size` bytes from `open()` (called again for every retry): monolithic up to
 * `env.chunkThreshold` bytes, chunked above. A stream of another length fails with an IntegrityError.
 */
export async function uploadBlob(
  env: UploadEnv,
  loc: BlobLocation,
  blob: BlobSource,
  signal?: AbortSignal,
): Promise<void> {
  checked(loc);
  if (blob.size > env.chunkThreshold) return chunkedUpload(env, loc, blob, signal);
  return monolithicUpload(env, loc, blob, signal);
}
