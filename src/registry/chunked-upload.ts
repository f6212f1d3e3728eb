/**
 * Chunked blob uploads (OCI distribution spec, "Pushing a blob in chunks", end-5): `PATCH`es of
 * `Content-Range: START-END` with the next slice of the stream, each answered 202 with the next
 * `Location` (which carries the registry's upload state and must be used as given), then
 * `PUT ?digest=` without a body. After a failed chunk the registry is asked how far it got
 * (`GET` on the upload, 204 with `Range: 0-END`, end-13) and the upload resumes from there,
 * re-reading the source up to that point; an upload the registry forgot starts over.
 */
import { Readable } from 'node:stream';
import { errnoCode, IntegrityError, RegistryError } from '../errors.js';
import { repositoryScope } from './auth.js';
import {
  blobCtx,
  lengthMismatch,
  startUpload,
  uploadLocation,
  type BlobLocation,
  type BlobSource,
  type UploadEnv,
} from './blobs.js';
import { discard } from './body.js';
import { TransientRegistryError, type FailureContext } from './failure.js';
import { appendQuery } from './paths.js';
import { backoffMs } from './retry.js';
import { StreamCursor } from './stream-cursor.js';

interface Upload {
  location: URL;
  chunk: number;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The end of `Range: 0-END` (distribution writes `0--1` for an empty upload), or undefined. */
export function rangeEnd(v: string | string[] | undefined): number | undefined {
  const m = /^(?:bytes=)?0-(-?\d+)$/.exec(header(v)?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

function pushScope(loc: BlobLocation): string[] {
  return [repositoryScope(loc.repository, 'pull,push')];
}

/** An upload in progress: the blob, its session, what failures say, and the abort signal. */
interface UploadAt {
  loc: BlobLocation;
  upload: Upload;
  ctx: FailureContext;
  signal?: AbortSignal | undefined;
}

/** The next chunk: `len` bytes from `cursor`, at `offset` in the blob. */
interface Chunk {
  cursor: StreamCursor;
  offset: number;
  len: number;
}

/** Sends one chunk; returns the upload's next location. */
async function patchChunk(env: UploadEnv, at: UploadAt, chunk: Chunk): Promise<URL> {
  const { loc, upload, ctx, signal } = at;
  const { cursor, offset, len } = chunk;
  let opened = false;
  const res = await env.session.send({
    registry: loc.registry,
    method: 'PATCH',
    target: upload.location.toString(),
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(len),
      'content-range': `${offset}-${offset + len - 1}`,
    },
    body: async () => {
      // The session re-sends a request once after a fresh 401 challenge (an expired token): the
      // chunk's bytes are gone by then, so resume through the upload's status instead.
      if (opened)
        throw new TransientRegistryError(
          `${ctx.action}: the registry asked to authenticate again during a chunk`,
          { registry: loc.registry },
          {},
        );
      opened = true;
      return Readable.from(cursor.take(len), { objectMode: false });
    },
    scopes: pushScope(loc),
    expect: [202],
    ctx,
    retry: false,
    signal,
  });
  await discard(res.body);
  const end = rangeEnd(res.headers.range);
  if (end !== undefined && end !== offset + len - 1) {
    throw new TransientRegistryError(
      `${ctx.action}: the registry acknowledged bytes 0-${end}, not 0-${offset + len - 1}`,
      { registry: loc.registry },
      {},
    );
  }
  return res.headers.location !== undefined ? uploadLocation(res, ctx, env.redactor) : upload.location;
}

/** How far the registry got with an upload: its next location and offset, or undefined when it forgot the upload. */
async function uploadStatus(env: UploadEnv, at: UploadAt): Promise<{ location: URL; offset: number } | undefined> {
  const { loc, upload, ctx, signal } = at;
  const res = await env.session.send({
    registry: loc.registry,
    method: 'GET',
    target: upload.location.toString(),
    scopes: pushScope(loc),
    expect: [204, 404],
    ctx,
    retry: true,
    signal,
  });
  await discard(res.body);
  const end = rangeEnd(res.headers.range);
  if (res.status === 404 || end === undefined) return undefined;
  return {
    location: res.headers.location !== undefined ? uploadLocation(res, ctx, env.redactor) : upload.location,
    offset: end + 1,
  };
}

/** Whether a failure is worth resuming from the upload's status: transient, or the registry saying our range was wrong (416). */
function resumable(err: unknown): err is RegistryError {
  return err instanceof TransientRegistryError || (err instanceof RegistryError && err.details.status === 416);
}

/** Uploads `blob.size` bytes from `blob.open()` in chunks of `env.chunkSize`; see the file comment. */
export async function chunkedUpload(
  env: UploadEnv,
  loc: BlobLocation,
  blob: BlobSource,
  signal?: AbortSignal,
): Promise<void> {
  const { size, open } = blob;
  const ctx = blobCtx('uploading blob', loc, 'upload');
  let upload: Upload | undefined;
  let cursor: StreamCursor | undefined;
  let offset = 0;
  let failures = 0;
  try {
    for (;;) {
      try {
        if (upload === undefined) {
          const started = await startUpload(env, {
            registry: loc.registry,
            repository: loc.repository,
            ctx,
            retry: true,
            signal,
          });
          upload = { location: started.location, chunk: Math.max(env.chunkSize, started.minChunk) };
          offset = 0;
        }
        if (cursor === undefined) {
          cursor = new StreamCursor(await open());
          if ((await cursor.skip(offset)) < offset) throw lengthMismatch(ctx, size);
        }
        while (offset < size) {
          const len = Math.min(upload.chunk, size - offset);
          upload.location = await patchChunk(env, { loc, upload, ctx, signal }, { cursor, offset, len });
          offset += len;
          // Each acknowledged chunk is progress: a long upload may survive many separate failures.
          failures = 0;
        }
        if (!(await cursor.atEnd())) throw lengthMismatch(ctx, size);
        const res = await env.session.send({
          registry: loc.registry,
          method: 'PUT',
          target: appendQuery(upload.location, 'digest', loc.digest).toString(),
          headers: { 'content-length': '0' },
          scopes: pushScope(loc),
          expect: [201],
          ctx,
          retry: false,
          signal,
        });
        await discard(res.body);
        env.logger.debug('chunked upload done', {
          registry: loc.registry,
          digest: loc.digest,
          size,
          chunk: upload.chunk,
        });
        return;
      } catch (err) {
        if (errnoCode(err) === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') throw lengthMismatch(ctx, size, err);
        if (err instanceof IntegrityError || !resumable(err) || failures >= env.retries) throw err;
        failures++;
        cursor?.close();
        cursor = undefined;
        const wait =
          err instanceof TransientRegistryError && err.retryAfterMs !== undefined
            ? err.retryAfterMs
            : backoffMs(failures - 1);
        env.session.logRetry(ctx)(err.message, wait, failures);
        await env.sleep(wait, signal);
        if (upload !== undefined) {
          const status = await uploadStatus(env, { loc, upload, ctx, signal });
          if (status === undefined) upload = undefined;
          else ({ location: upload.location, offset } = status);
        }
      }
    }
  } finally {
    cursor?.close();
  }
}
