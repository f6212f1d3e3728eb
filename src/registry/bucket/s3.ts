/**
 * An S3 object as a build context (`s3://BUCKET/KEY`, issue 14), read as Kaniko reads it
 * (pkg/buildcontext/s3.go: the AWS SDK's default config, `S3_ENDPOINT` as the base endpoint and
 * `S3_FORCE_PATH_STYLE=true` for path-style addressing, what MinIO, Ceph and s3rver want). The
 * credentials come from the AWS default chain (cloud/aws-credentials.ts); the GET is signed with
 * SigV4 the S3 way — the path encoded once, `x-amz-content-sha256` the empty body's hash — and
 * streamed, never buffered.
 */
import type { Readable } from 'node:stream';
import { awsCredentials } from '../cloud/aws-credentials.js';
import { amzDate, sha256Hex, signV4, type AwsCredentials } from '../cloud/aws-sigv4.js';
import { CloudError } from '../cloud/http.js';
import { bucketHelperContext, type BucketCredentialInputs } from './helper-context.js';
import { BucketFailure, getObject, ObjectGetFailed, type ObjectGetOptions } from './get.js';

/** Where S3 is: the endpoint (`S3_ENDPOINT`, else the SDK's `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`), addressing and region. */
export interface S3Settings {
  endpoint?: URL;
  forcePathStyle: boolean;
  region: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** The settings of the environment; the region defaults to us-east-1, as the S3 API's global endpoint. */
export function s3Settings(env: Record<string, string | undefined>): S3Settings {
  const raw = nonEmpty(env.S3_ENDPOINT) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  let endpoint: URL | undefined;
  if (raw !== undefined) {
    try {
      endpoint = new URL(raw.includes('://') ? raw : `https://${raw}`);
    } catch {
      throw new BucketFailure(`S3_ENDPOINT "${raw}" is not a URL`, 'give it as https://HOST[:PORT]');
    }
  }
  return {
    ...(endpoint !== undefined ? { endpoint } : {}),
    forcePathStyle: (env.S3_FORCE_PATH_STYLE ?? '').toLowerCase() === 'true',
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
  };
}

/** RFC 3986 encoding of one path segment, as SigV4 and S3 want it. */
const encodeSegment = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The object's URL: virtual-hosted (`BUCKET.HOST/KEY`) as the SDK's default, path-style
 * (`HOST/BUCKET/KEY`) with S3_FORCE_PATH_STYLE or for a bucket name with dots (which no
 * wildcard certificate covers, so the SDK falls back to path style too).
 */
export function s3ObjectUrl(bucket: string, key: string, s: S3Settings): URL {
  const base = s.endpoint ?? new URL(`https://s3.${s.region}.amazonaws.com${s.region.startsWith('cn-') ? '.cn' : ''}`);
  const keyPath = key.split('/').map(encodeSegment).join('/');
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.href);
  if (s.forcePathStyle || bucket.includes('.')) {
    url.pathname = `${prefix}/${encodeSegment(bucket)}/${keyPath}`;
  } else {
    url.hostname = `${bucket}.${base.hostname}`;
    url.pathname = `${prefix}/${keyPath}`;
  }
  url.search = '';
  return url;
}

/** The headers of a SigV4-signed GET of `url` for S3 (its payload hash signed too, as S3 requires). */
export function s3SignedHeaders(url: URL, c: AwsCredentials, region: string, now: Date): Record<string, string> {
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': sha256Hex(''),
    'x-amz-date': amzDate(now),
    ...(c.sessionToken !== undefined ? { 'x-amz-security-token': c.sessionToken } : {}),
  };
  const authorization = signV4({
    method: 'GET',
    url,
    headers,
    payloadHash: sha256Hex(''),
    region,
    service: 's3',
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    amzDate: headers['x-amz-date'] ?? '',
  });
  return { ...headers, authorization };
}

const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AllAccessDisabled',
]);

/** A refusal of S3 in words: what is missing or denied, and what to check. */
function refusal(err: ObjectGetFailed, bucket: string, key: string, source: string, region: string): BucketFailure {
  const { status, code, detail } = err.extra;
  const said = `(${err.message}${detail ? `: ${detail}` : ''})`;
  if (code === 'NoSuchBucket') return new BucketFailure(`S3 has no bucket ${bucket} ${said}`);
  if (code === 'NoSuchKey' || (status === 404 && code === undefined))
    return new BucketFailure(`S3 bucket ${bucket} has no object ${key} ${said}`);
  if (status === 301 || code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed')
    return new BucketFailure(`S3 bucket ${bucket} is not in region ${region} ${said}`, 'set AWS_REGION to its region');
  if (status === 403 || status === 401 || (code !== undefined && DENIED.has(code)))
    return new BucketFailure(
      `S3 denied access to bucket ${bucket} with the credentials from ${source} ${said}`,
      'check the AWS credentials of the build and that they may s3:GetObject on the object',
    );
  return new BucketFailure(`S3 answered ${said} for bucket ${bucket}`);
}

/** Opens `s3://bucket/key`: its bytes as they arrive, or a {@link BucketFailure} saying why not. */
export async function openS3Object(
  bucket: string,
  key: string,
  inputs: BucketCredentialInputs,
  get: Omit<ObjectGetOptions, 'redactor'>,
): Promise<Readable> {
  const settings = s3Settings(inputs.env);
  const url = s3ObjectUrl(bucket, key, settings);
  let found;
  try {
    found = await awsCredentials(bucketHelperContext(inputs));
  } catch (err) {
    if (!(err instanceof CloudError)) throw err;
    throw new BucketFailure(
      err.message,
      err.kind === 'setup'
        ? 'give the build AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, IRSA'
        : undefined,
      { cause: err },
    );
  }
  inputs.redactor.add(found.credentials.secretAccessKey);
  inputs.redactor.add(found.credentials.sessionToken);
  const headers = s3SignedHeaders(url, found.credentials, settings.region, (inputs.now ?? (() => new Date()))());
  inputs.redactor.add(headers.authorization?.split('Signature=')[1]);
  try {
    return await getObject(url, headers, { ...get, redactor: inputs.redactor });
  } catch (err) {
    if (!(err instanceof ObjectGetFailed)) throw err;
    if (err.extra.status === undefined)
      throw new BucketFailure(`S3 at ${url.origin}: ${err.message}`, 'check S3_ENDPOINT and the network of the build', {
        cause: err,
      });
    const f = refusal(err, bucket, key, found.source, settings.region);
    throw new BucketFailure(f.message, f.hint, { cause: err });
  }
}
