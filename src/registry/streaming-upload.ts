/**
 * An upload that starts before the blob's digest and size are known: `POST` a session (end-4a),
 * one `PATCH` whose body streams as the bytes are made (no `Content-Range`, chunked transfer
 * encoding: the "stream upload" Docker's client uses and distribution accepts), then, once the
 * caller knows the digest, `PUT ?digest=` without a body (end-6). A new layer is sent while it
 * is still being compressed, instead of being read back from disk after.
 *
 * Nothing here is retried: the caller keeps the blob and falls back to an ordinary upload, so a
 * failure costs time, never the build.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { repositoryScope } from './auth.js';
import { blobCtx, cancelUpload, checked, startUpload, uploadLocation, type BlobEnv } from './blobs.js';
import { discard } from './body.js';
import { rangeEnd } from './chunked-upload.js';
import { TransientRegistryError, type FailureContext } from './failure.js';
import { appendQuery } from './paths.js';

/** A blob upload fed while the blob is made; see the file comment. */
export interface StreamingUpload {
  /** Write the blob's bytes here and end it. */
  readonly input: Writable;
  /** After `input` ended: commits the blob under `digest`, checking the registry got `size` bytes. */
  finish(digest: string, size: number): Promise<void>;
  /** Gives up: stops the request and cancels the session (best effort). */
  abort(): Promise<void>;
}

/** Starts a streaming upload to `registry/repository`. */
export async function startStreamingUpload(
  env: BlobEnv,
  registry: string,
  repository: string,
  signal?: AbortSignal,
): Promise<StreamingUpload> {
  const ctx: FailureContext = {
    action: `uploading a new blob to ${registry}/${repository}`,
    registry,
    repository,
    subject: 'upload',
  };
  const session = await startUpload(env, { registry, repository, ctx, retry: true, signal });
  const input = new PassThrough();
  const stop = new AbortController();
  const both = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let opened = false;
  const patched = env.session
    .send({
      registry,
      method: 'PATCH',
      target: session.location.toString(),
      headers: { 'content-type': 'application/octet-stream' },
      body: () => {
        // A re-sent request (a fresh 401 challenge) would find the bytes gone.
        if (opened)
          return Promise.reject(
            new TransientRegistryError(`${ctx.action}: the registry asked to authenticate again`, { registry }, {}),
          );
        opened = true;
        return Promise.resolve(input as Readable);
      },
      scopes: [repositoryScope(repository, 'pull,push')],
      expect: [202],
      ctx,
      retry: false,
      signal: both,
    })
    .then(async (res) => {
      await discard(res.body);
      return { location: uploadLocation(res, ctx, env.redactor), end: rangeEnd(res.headers.range) };
    });
  // Failures surface in finish(); until then nobody may be waiting.
  patched.catch(() => undefined);
  return {
    input,
    async finish(digest, size) {
      const loc = { registry, repository, digest };
      checked(loc);
      const { location, end } = await patched;
      const putCtx = blobCtx('uploading blob', loc, 'upload');
      if (end !== undefined && end !== size - 1)
        throw new IntegrityError(`${putCtx.action}: the registry received ${end + 1} bytes of ${size}`);
      const res = await env.session.send({
        registry,
        method: 'PUT',
        target: appendQuery(location, 'digest', digest).toString(),
        headers: { 'content-length': '0' },
        scopes: [repositoryScope(repository, 'pull,push')],
        expect: [201],
        ctx: putCtx,
        retry: false,
        signal,
      });
      await discard(res.body);
    },
    async abort() {
      stop.abort();
      input.destroy();
      await patched.catch(() => undefined);
      await cancelUpload(env, { registry, repository, location: session.location });
    },
  };
}
