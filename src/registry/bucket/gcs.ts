/**
 * A Google Cloud Storage object as a build context (`gs://BUCKET/OBJECT`, `--bucket`; issue 14),
 * as Kaniko reads it (pkg/buildcontext/gcs.go: the storage client with the application default
 * credentials). The download is Google's documented JSON API media download, `GET
 * {endpoint}/storage/v1/b/BUCKET/o/OBJECT?alt=media`, streamed through the bucket GET (get.ts),
 * with a devstorage.read_only token from google-auth-library (cloud/google-auth.ts: every ADC
 * source, external_account included).
 *
 * `STORAGE_EMULATOR_HOST` (`HOST:PORT` or a URL) points it elsewhere, as it does Google's Go and
 * Node client libraries; like them, no credentials are then looked for — unless
 * GOOGLE_APPLICATION_CREDENTIALS names a key file, whose token is sent.
 */
import type { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { googleAccessToken } from '../cloud/google-auth.js';
import { CloudError } from '../cloud/http.js';
import type { BucketCredentialInputs } from './helper-context.js';
import { BucketFailure, getObject, ObjectGetFailed, type ObjectGetOptions } from './get.js';

const GCS_ENDPOINT = 'https://storage.googleapis.com';
const READ_ONLY = 'https://www.googleapis.com/auth/devstorage.read_only';

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** The JSON API's media download URL of an object; the emulator host, when set, replaces Google's. */
export function gcsObjectUrl(bucket: string, object: string, env: Record<string, string | undefined>): URL {
  const emulator = nonEmpty(env.STORAGE_EMULATOR_HOST);
  const base = emulator === undefined ? GCS_ENDPOINT : emulator.includes('://') ? emulator : `http://${emulator}`;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new BucketFailure(`STORAGE_EMULATOR_HOST "${emulator}" is not a host or URL`);
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`;
  url.search = '?alt=media';
  return url;
}

/** The bearer token to send, with where it came from; undefined for an emulator without a key file. */
async function token(
  inputs: BucketCredentialInputs,
  get: Omit<ObjectGetOptions, 'redactor'>,
): Promise<{ token: string; source: string } | undefined> {
  const keyFile = nonEmpty(inputs.env.GOOGLE_APPLICATION_CREDENTIALS);
  if (nonEmpty(inputs.env.STORAGE_EMULATOR_HOST) !== undefined && keyFile === undefined) return undefined;
  try {
    const t = await googleAccessToken({
      env: inputs.env,
      homeDir: inputs.homeDir,
      readFile: (p) => readFile(p, 'utf8'),
      scope: READ_ONLY,
      redactor: inputs.redactor,
      signal: get.signal,
      // --network-timeout bounds the token requests as it does the download.
      ...(get.timeouts !== undefined ? { timeoutMs: Math.max(get.timeouts.connectMs, get.timeouts.headersMs) } : {}),
      ...(inputs.trustedCas !== undefined ? { trustedCas: inputs.trustedCas } : {}),
    });
    return { token: t.token, source: keyFile ?? t.source };
  } catch (err) {
    if (!(err instanceof CloudError)) throw err;
    throw new BucketFailure(
      err.message,
      'point GOOGLE_APPLICATION_CREDENTIALS at a service-account key or an external_account (workload identity federation) file, or run with a workload identity on GKE',
      { cause: err },
    );
  }
}

/** A refusal of GCS in words. */
function refusal(err: ObjectGetFailed, bucket: string, object: string, source: string): BucketFailure {
  const { status, detail } = err.extra;
  const said = `(${err.message}${detail ? `: ${detail}` : ''})`;
  if (status === 404)
    return new BucketFailure(`Google Cloud Storage has no object ${object} in bucket ${bucket} ${said}`);
  if (status === 401 || status === 403)
    return new BucketFailure(
      `Google Cloud Storage denied access to bucket ${bucket} with ${source} ${said}`,
      'check that the service account may read the object (roles/storage.objectViewer)',
    );
  return new BucketFailure(`Google Cloud Storage answered ${said} for bucket ${bucket}`);
}

/** Opens `gs://bucket/object`: its bytes as they arrive, or a {@link BucketFailure} saying why not. */
export async function openGcsObject(
  bucket: string,
  object: string,
  inputs: BucketCredentialInputs,
  get: Omit<ObjectGetOptions, 'redactor'>,
): Promise<Readable> {
  const url = gcsObjectUrl(bucket, object, inputs.env);
  const auth = await token(inputs, get);
  const headers: Record<string, string> = auth !== undefined ? { authorization: `Bearer ${auth.token}` } : {};
  try {
    return await getObject(url, headers, { ...get, redactor: inputs.redactor });
  } catch (err) {
    if (!(err instanceof ObjectGetFailed)) throw err;
    if (err.extra.status === undefined)
      throw new BucketFailure(`Google Cloud Storage at ${url.origin}: ${err.message}`, undefined, { cause: err });
    const f = refusal(err, bucket, object, auth?.source ?? 'no credentials (STORAGE_EMULATOR_HOST is set)');
    throw new BucketFailure(f.message, f.hint, { cause: err });
  }
}
