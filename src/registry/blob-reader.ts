/**
 * Blob downloads that survive a dropped connection (OCI distribution spec end-2, "Pulling
 * blobs"). A body that breaks off — a reset, a response shorter than its Content-Length, or a
 * clean end before the blob's known size — is resumed where it stopped with `Range: bytes=N-`
 * (RFC 9110 §14.2), which the distribution registry and blob stores (S3, GCS) honour; a server
 * that answers 200 instead of 206 is read again from the start, the bytes already delivered
 * skipped. The caller sees one continuous stream and verifies its digest as usual.
 */
import { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { repositoryScope } from './auth.js';
import { discard } from './body.js';
import type { BlobEnv, BlobLocation } from './blobs.js';
import { TransientRegistryError, type FailureContext } from './failure.js';
import { classifyNetworkError, isAbort } from './network-error.js';
import { blobPath } from './paths.js';
import { backoffMs } from './retry.js';
import type { RegistryResponse } from './session.js';

/** Bytes received since the last break after which the retry count starts again. */
const PROGRESS_RESETS_RETRIES = 1024 * 1024;

/** A body that ended cleanly before the blob's size: a proxy or server cut it short. */
class ShortBody extends Error {}

function ctxOf(loc: BlobLocation): FailureContext {
  return {
    action: `fetching blob ${loc.registry}/${loc.repository}@${loc.digest}`,
    registry: loc.registry,
    repository: loc.repository,
    subject: 'blob',
  };
}

/** GET the blob from byte `offset` on (the whole blob when 0). Redirects to blob storage are followed. */
function request(env: BlobEnv, loc: BlobLocation, offset: number, signal?: AbortSignal): Promise<RegistryResponse> {
  return env.session.send({
    registry: loc.registry,
    method: 'GET',
    target: blobPath(loc.repository, loc.digest),
    ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
    scopes: [repositoryScope(loc.repository, 'pull')],
    expect: offset > 0 ? [200, 206] : [200],
    ctx: ctxOf(loc),
    retry: true,
    followRedirects: true,
    signal,
  });
}

/** How many leading bytes of a resumed response to drop so that it continues at `offset`. */
function bytesToSkip(res: RegistryResponse, offset: number, loc: BlobLocation): number {
  if (res.status !== 206) return offset;
  const range = res.headers['content-range'];
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(Array.isArray(range) ? (range[0] ?? '') : (range ?? ''));
  const start = m ? Number(m[1]) : Number.NaN;
  if (!(start <= offset)) {
    throw new RegistryError(
      `${ctxOf(loc).action}: the registry resumed the download at the wrong place (Content-Range ${String(range)}, wanted byte ${offset})`,
      {
        registry: loc.registry,
        repository: loc.repository,
        status: 206,
      },
    );
  }
  return offset - start;
}

/** Where a download stood when it failed: bytes read, the blob's size if known, retries spent. */
interface DownloadProgress {
  offset: number;
  size: number | undefined;
  retries: number;
}

function giveUp(env: BlobEnv, loc: BlobLocation, err: unknown, progress: DownloadProgress): TransientRegistryError {
  const { offset, size, retries } = progress;
  const why =
    err instanceof ShortBody
      ? 'the registry ended the blob early'
      : (classifyNetworkError(err, env.session.timeouts)?.reason ?? 'the download failed');
  const where = size === undefined ? `after ${offset} bytes` : `at byte ${offset} of ${size}`;
  const tries = retries > 0 ? ` (gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'})` : '';
  const message = `${ctxOf(loc).action}: ${why} ${where}${tries}`;
  return new TransientRegistryError(
    env.redactor.apply(message),
    { registry: loc.registry, repository: loc.repository },
    { cause: err },
  );
}

/** A blob download {@link resumable} reads: the blob, its size if known, the first response. */
interface Download {
  loc: BlobLocation;
  size: number | undefined;
  first: RegistryResponse;
  signal?: AbortSignal | undefined;
}

async function* resumable(env: BlobEnv, download: Download): AsyncGenerator<Buffer> {
  const { loc, size, first, signal } = download;
  let body: Readable = first.body;
  let skip = 0;
  let offset = 0;
  let failures = 0;
  for (;;) {
    const before = offset;
    let failure: unknown;
    try {
      for await (const chunk of body) {
        let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          skip -= n;
          buf = buf.subarray(n);
          if (buf.length === 0) continue;
        }
        offset += buf.length;
        yield buf;
      }
      // A clean end: whole unless the blob's size says more is due (verifyDigest judges the rest).
      if (size === undefined || offset >= size) return;
      failure = new ShortBody();
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      const f = classifyNetworkError(err);
      if (f === undefined) throw err;
      if (!f.retryable) throw giveUp(env, loc, err, { offset, size, retries: failures });
      failure = err;
    }
    // A break after real progress (a long download on a flaky link) starts the count afresh;
    // at least 1 MiB each time, so that a server dribbling bytes cannot keep us here forever.
    if (offset - before >= PROGRESS_RESETS_RETRIES) failures = 0;
    if (failures >= env.retries) throw giveUp(env, loc, failure, { offset, size, retries: failures });
    failures++;
    // Progress since the last break means the link works: resume at once. Otherwise back off.
    if (offset === before) await env.sleep(backoffMs(failures - 1), signal);
    const reason =
      failure instanceof ShortBody
        ? 'the body ended early'
        : (classifyNetworkError(failure, env.session.timeouts)?.reason ?? 'failed');
    env.logger.warn(`resuming the download of ${loc.digest} at byte ${offset}: ${reason}`, {
      registry: loc.registry,
      attempt: failures,
    });
    const res = await request(env, loc, offset, signal);
    try {
      skip = bytesToSkip(res, offset, loc);
    } catch (err) {
      await discard(res.body);
      throw err;
    }
    body = res.body;
  }
}

/**
 * GETs a blob as a stream that resumes after a broken connection, at most `env.retries` times
 * (waiting with backoff only when no byte arrived since the last break). `size`, when known,
 * lets a body that ends cleanly but short be resumed too. Failures that remain are RegistryErrors.
 */
export async function openBlob(
  env: BlobEnv,
  loc: BlobLocation,
  size: number | undefined,
  signal?: AbortSignal,
): Promise<Readable> {
  const first = await request(env, loc, 0, signal);
  // The generator starts reading on the caller's first read; until then an error of the body (a
  // dropped connection) must not be an unhandled 'error' event. Iterating still sees it.
  first.body.on('error', () => {});
  return Readable.from(resumable(env, { loc, size, first, signal }), { objectMode: false });
}
