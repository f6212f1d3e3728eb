/**
 * Blob requests (OCI distribution spec): pulling (end-2, resumable, see blob-reader.ts),
 * checking existence (HEAD), cross-repository mounts (end-11), starting and cancelling upload
 * sessions (end-4a; the uploads themselves are in upload.ts) and Kaniko's push-permission check
 * (start an upload, then cancel it).
 */
import type { Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import { repositoryScope } from './auth.js';
import { openBlob } from './blob-reader.js';
import { discard } from './body.js';
import { protocolError, type FailureContext } from './failure.js';
import { blobPath, checkDigest, checkRepository, uploadsPath } from './paths.js';
import type { Redactor } from './redact.js';
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

/** What uploads need besides the blob environment: where chunking starts and how big chunks are. */
export interface UploadEnv extends BlobEnv {
  /** Blobs above this many bytes are uploaded in chunks; at or below it, in one request. */
  chunkThreshold: number;
  /** Bytes per PATCH of a chunked upload (raised to the registry's `OCI-Chunk-Min-Length`). */
  chunkSize: number;
}

/** The IntegrityError for an upload source that is not the declared size. */
export function lengthMismatch(ctx: FailureContext, size: number, cause?: unknown): IntegrityError {
  return new IntegrityError(
    `${ctx.action}: the blob's content is not the declared ${size} bytes`,
    cause === undefined ? undefined : { cause },
  );
}

/** Where a blob lives. */
export interface BlobLocation {
  registry: string;
  repository: string;
  digest: string;
}

/** The bytes of a blob to upload: its size, and how to open them (called again for every retry). */
export interface BlobSource {
  size: number;
  open: () => Promise<Readable>;
}

/** Throws unless the location names a valid repository and digest. */
export function checked(loc: BlobLocation): void {
  checkRepository(loc.registry, loc.repository);
  checkDigest(loc.registry, loc.digest);
}

/** The failure context of a blob operation, e.g. `uploading blob REG/REPO@DIGEST`. */
export function blobCtx(
  action: string,
  loc: BlobLocation,
  subject: FailureContext['subject'] = 'blob',
): FailureContext {
  return {
    action: `${action} ${loc.registry}/${loc.repository}@${loc.digest}`,
    registry: loc.registry,
    repository: loc.repository,
    subject,
  };
}

/** GETs a blob's body as a resumable stream; see {@link RegistryClient.getBlob}. */
export async function getBlob(
  env: BlobEnv,
  loc: BlobLocation,
  size: number | undefined,
  signal?: AbortSignal,
): Promise<Readable> {
  checked(loc);
  return openBlob(env, loc, size, signal);
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

/** The upload URL a response's `Location` names, resolved against the request URL. */
export function uploadLocation(
  res: { headers: Record<string, string | string[] | undefined>; url: URL },
  ctx: FailureContext,
  redactor: Redactor,
): URL {
  const loc = res.headers.location;
  const value = Array.isArray(loc) ? loc[0] : loc;
  if (value === undefined || value === '')
    throw protocolError('the registry started an upload without a Location header', ctx, redactor, 202);
  // Location may be relative to the request URL (spec end-4a: "the Location header … may be absolute or relative").
  return new URL(value, res.url);
}

/** The upload session {@link cancelUpload} cancels. */
export interface UploadToCancel {
  registry: string;
  repository: string;
  /** The session's location, as the registry last gave it. */
  location: URL;
  signal?: AbortSignal | undefined;
}

/** Cancels an upload session (DELETE on its location, "Cancel Blob Upload" in the distribution API); best effort, failures only logged. */
export async function cancelUpload(env: BlobEnv, upload: UploadToCancel): Promise<void> {
  const { registry, repository, location, signal } = upload;
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
    env.logger.debug('cancelling an upload failed', {
      registry,
      repository,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** A new upload session: where to send the bytes, and the smallest chunk the registry takes. */
export interface UploadSession {
  location: URL;
  /** `OCI-Chunk-Min-Length` (distribution spec end-4a), 0 when the registry sets none. */
  minChunk: number;
}

/** The upload session {@link startUpload} asks for. */
export interface StartUploadOptions {
  registry: string;
  repository: string;
  /** What the failure messages say was being done. */
  ctx: FailureContext;
  /** Whether the POST may be retried (not when its session's state would be unknown). */
  retry: boolean;
  signal?: AbortSignal | undefined;
}

/** POSTs a new upload session (end-4a). */
export async function startUpload(env: BlobEnv, opts: StartUploadOptions): Promise<UploadSession> {
  const { registry, repository, ctx, retry, signal } = opts;
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
  const min = Number(res.headers['oci-chunk-min-length']);
  return { location: uploadLocation(res, ctx, env.redactor), minChunk: Number.isSafeInteger(min) && min > 0 ? min : 0 };
}

/** Cross-repository mount; see {@link RegistryClient.mountBlob}. */
export async function mountBlob(
  env: BlobEnv,
  loc: BlobLocation,
  fromRepository: string,
  signal?: AbortSignal,
): Promise<boolean> {
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
  await cancelUpload(env, {
    registry: loc.registry,
    repository: loc.repository,
    location: uploadLocation(res, ctx, env.redactor),
    signal,
  });
  return false;
}

/**
 * Kaniko's push-permission check (`remote.CheckPushPermission`): start an upload with push scope
 * and cancel it. Throws the RegistryError (unauthorized, denied) when pushing is not allowed.
 */
export async function checkPushAccess(
  env: BlobEnv,
  registry: string,
  repository: string,
  signal?: AbortSignal,
): Promise<void> {
  checkRepository(registry, repository);
  const ctx: FailureContext = {
    action: `checking push access to ${registry}/${repository}`,
    registry,
    repository,
    subject: 'upload',
  };
  const upload = await startUpload(env, { registry, repository, ctx, retry: true, signal });
  await cancelUpload(env, { registry, repository, location: upload.location, signal });
}
