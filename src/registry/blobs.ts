/**
 * Blob requests (OCI distribution spec): pulling (end-2, with redirects to blob storage),
 * checking existence (HEAD), cross-repository mounts (end-11), monolithic uploads (POST end-4a
 * then PUT end-6) and Kaniko's push-permission check (start an upload, then cancel it).
 */
import type { Readable } from 'node:stream';
import { errnoCode, IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import { repositoryScope } from './auth.js';
import { discard } from './body.js';
import { protocolError, TransientRegistryError, type FailureContext } from './failure.js';
import { appendQuery, blobPath, checkDigest, checkRepository, uploadsPath } from './paths.js';
import type { Redactor } from './redact.js';
import { RetryLater, withRetries } from './retry.js';
import type { Session } from './session.js';
import type { SleepFn } from './types.js';

/** What blob operations need besides the session. */
export interface BlobEnv {
  session: Session;
  redactor: Redactor;
  logger: Logger;
  retries: number;
  sleep: SleepFn;
}

/** Where a blob lives. */
export interface BlobLocation {
  registry: string;
  repository: string;
  digest: string;
}

function checked(loc: BlobLocation): void {
  checkRepository(loc.registry, loc.repository);
  checkDigest(loc.registry, loc.digest);
}

function blobCtx(action: string, loc: BlobLocation, subject: FailureContext['subject'] = 'blob'): FailureContext {
  return { action: `${action} ${loc.registry}/${loc.repository}@${loc.digest}`, registry: loc.registry, repository: loc.repository, subject };
}

/** GETs a blob's body as a stream, following redirects to blob storage; see {@link RegistryClient.getBlob}. */
export async function getBlob(env: BlobEnv, loc: BlobLocation, signal?: AbortSignal): Promise<Readable> {
  checked(loc);
  const res = await env.session.send({
    registry: loc.registry,
    method: 'GET',
    target: blobPath(loc.repository, loc.digest),
    scopes: [repositoryScope(loc.repository, 'pull')],
    expect: [200],
    ctx: blobCtx('fetching blob', loc),
    retry: true,
    followRedirects: true,
    signal,
  });
  return res.body;
}

/** HEADs a blob: true when the repository has it (200), false on 404. */
export async function hasBlob(env: BlobEnv, loc: BlobLocation, signal?: AbortSignal): Promise<boolean> {
  checked(loc);
  const res = await env.session.send({
    registry: loc.registry,
    method: 'HEAD',
    target: blobPath(loc.repository, loc.digest),
    scopes: [repositoryScope(loc.repository, 'pull')],
    expect: [200, 404],
    ctx: blobCtx('checking blob', loc),
    retry: true,
    followRedirects: true,
    signal,
  });
  await discard(res.body);
  return res.status === 200;
}

function uploadLocation(res: { headers: Record<string, string | string[] | undefined>; url: URL }, ctx: FailureContext, redactor: Redactor): URL {
  const loc = res.headers.location;
  const value = Array.isArray(loc) ? loc[0] : loc;
  if (value === undefined || value === '') throw protocolError('the registry started an upload without a Location header', ctx, redactor, 202);
  // Location may be relative to the request URL (spec end-4a: "the Location header … may be absolute or relative").
  return new URL(value, res.url);
}

/** Cancels an upload session (DELETE on its location, "Cancel Blob Upload" in the distribution API); best effort, failures only logged. */
async function cancelUpload(env: BlobEnv, registry: string, repository: string, location: URL, signal?: AbortSignal): Promise<void> {
  try {
    const res = await env.session.send({
      registry,
      method: 'DELETE',
      target: location.toString(),
      scopes: [repositoryScope(repository, 'pull,push')],
      expect: [200, 202, 204, 404],
      ctx: { action: `cancelling an upload to ${registry}/${repository}`, registry, repository, subject: 'upload' },
      retry: false,
      signal,
    });
    await discard(res.body);
  } catch (err) {
    if (signal?.aborted) throw err;
    env.logger.debug('cancelling an upload failed', { registry, repository, error: err instanceof Error ? err.message : String(err) });
  }
}

/** POSTs a new upload session and returns its location. */
async function startUpload(env: BlobEnv, registry: string, repository: string, ctx: FailureContext, retry: boolean, signal?: AbortSignal): Promise<URL> {
  const res = await env.session.send({
    registry,
    method: 'POST',
    target: uploadsPath(repository),
    headers: { 'content-length': '0' },
    scopes: [repositoryScope(repository, 'pull,push')],
    expect: [202],
    ctx,
    retry,
    signal,
  });
  await discard(res.body);
  return uploadLocation(res, ctx, env.redactor);
}

/** Cross-repository mount; see {@link RegistryClient.mountBlob}. */
export async function mountBlob(env: BlobEnv, loc: BlobLocation, fromRepository: string, signal?: AbortSignal): Promise<boolean> {
  checked(loc);
  checkRepository(loc.registry, fromRepository);
  const ctx = blobCtx(`mounting blob from ${fromRepository} into`, loc, 'upload');
  const res = await env.session.send({
    registry: loc.registry,
    method: 'POST',
    target: uploadsPath(loc.repository, { mount: loc.digest, from: fromRepository }),
    headers: { 'content-length': '0' },
    // The token must allow pulling from the source repository too (token.md, "Docker Hub quirks": `from` scope).
    scopes: [repositoryScope(loc.repository, 'pull,push'), repositoryScope(fromRepository, 'pull')],
    expect: [201, 202],
    ctx,
    // A repeated mount request is harmless: at worst it starts another upload, which is cancelled.
    retry: true,
    signal,
  });
  await discard(res.body);
  if (res.status === 201) return true;
  // 202: the registry could not mount (blob or access missing) and opened an upload instead (end-11).
  await cancelUpload(env, loc.registry, loc.repository, uploadLocation(res, ctx, env.redactor), signal);
  return false;
}

/** Monolithic upload; see {@link RegistryClient.uploadBlob}. */
export async function uploadBlob(
  env: BlobEnv,
  loc: BlobLocation,
  size: number,
  open: () => Promise<Readable>,
  signal?: AbortSignal,
): Promise<void> {
  checked(loc);
  const ctx = blobCtx('uploading blob', loc, 'upload');
  // The whole POST + PUT is retried: after a failed PUT the upload session's state is unknown.
  await withRetries(
    { retries: env.retries, sleep: env.sleep, ...(signal ? { signal } : {}), onRetry: env.session.logRetry(ctx) },
    async (canRetry) => {
      try {
        const location = await startUpload(env, loc.registry, loc.repository, ctx, false, signal);
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
        if (errnoCode(err) === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
          throw new IntegrityError(`${ctx.action}: the blob's content is not the declared ${size} bytes`, { cause: err });
        }
        if (canRetry && err instanceof TransientRegistryError) return new RetryLater(err.message, err.retryAfterMs);
        throw err;
      }
    },
  );
}

/**
 * Kaniko's push-permission check (`remote.CheckPushPermission`): start an upload with push scope
 * and cancel it. Throws the RegistryError (unauthorized, denied) when pushing is not allowed.
 */
export async function checkPushAccess(env: BlobEnv, registry: string, repository: string, signal?: AbortSignal): Promise<void> {
  checkRepository(registry, repository);
  const ctx: FailureContext = { action: `checking push access to ${registry}/${repository}`, registry, repository, subject: 'upload' };
  const location = await startUpload(env, registry, repository, ctx, true, signal);
  await cancelUpload(env, registry, repository, location, signal);
}
