/**
 * AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4.html), with
 * node:crypto only: the canonical request, the string to sign, the derived key and the
 * `Authorization` header. Pure: the clock is an argument, so AWS's published test vectors
 * (aws-sig-v4-test-suite, "get-vanilla") check it byte for byte.
 */
import { createHash, createHmac } from 'node:crypto';

/** AWS credentials: an access key pair, and a session token for temporary ones (STS, IRSA, ECS). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials as the AWS SDK's chain gives them: when they expire, and the features that found them. */
export interface AwsIdentity extends AwsCredentials {
  expiration?: Date;
  /** The SDK's credential feature ids (`CREDENTIALS_ENV_VARS`, `CREDENTIALS_PROFILE_PROCESS`…). */
  $source?: Record<string, unknown>;
}

/** Gives credentials (the SDK's default chain; a fake in unit tests). */
export type AwsCredentialProvider = () => Promise<AwsIdentity>;

/** One request to sign. `headers` must hold `host` and `x-amz-date`; every header given is signed. */
export interface SigV4Request {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Hex SHA-256 of the body (of '' when there is none). */
  payloadHash: string;
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `YYYYMMDD'T'HHMMSS'Z'`, the value of `x-amz-date`. */
  amzDate: string;
}

/** Hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `20150830T123600Z` for a date: the form of `x-amz-date`. */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** RFC 3986 encoding, as SigV4 wants it: everything but unreserved characters is %XX (uppercase). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The canonical request of SigV4 step 1 (exported for the test's sake). */
export function canonicalRequest(req: SigV4Request): { text: string; signedHeaders: string } {
  const entries = Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')]);
  entries.sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = entries.map(([k]) => k).join(';');
  // Each path segment is signed RFC 3986-encoded, and non-S3 services encode it once more (S3
  // signs the path as sent). URL already percent-encodes it, so each segment is decoded first.
  const encode = req.service === 's3' ? uriEncode : (seg: string) => uriEncode(uriEncode(seg));
  const path = req.url.pathname
    .split('/')
    .map((seg) => encode(decodeURIComponent(seg)))
    .join('/');
  const text = [
    req.method.toUpperCase(),
    path === '' ? '/' : path,
    canonicalQuery(req.url),
    entries.map(([k, v]) => `${k}:${v}\n`).join(''),
    signedHeaders,
    req.payloadHash,
  ].join('\n');
  return { text, signedHeaders };
}

/** The `Authorization` header value for a request. */
export function signV4(req: SigV4Request): string {
  const date = req.amzDate.slice(0, 8);
  const scope = `${date}/${req.region}/${req.service}/aws4_request`;
  const { text, signedHeaders } = canonicalRequest(req);
  const toSign = ['AWS4-HMAC-SHA256', req.amzDate, scope, sha256Hex(text)].join('\n');
  const kDate = hmac(`AWS4${req.secretAccessKey}`, date);
  const key = hmac(hmac(hmac(kDate, req.region), req.service), 'aws4_request');
  const signature = hmac(key, toSign).toString('hex');
  return `AWS4-HMAC-SHA256 Credential=${req.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/**
 * Headers for a signed POST of `body` to `url` with `credentials`: `host`, `x-amz-date`, the
 * session token when there is one (signed, as the SDKs sign it), `authorization`, and `extra`.
 */
export function signedHeaders(opts: {
  url: URL;
  body: string;
  region: string;
  service: string;
  credentials: AwsCredentials;
  now: Date;
  extra: Record<string, string>;
}): Record<string, string> {
  const headers: Record<string, string> = { ...opts.extra, host: opts.url.host, 'x-amz-date': amzDate(opts.now) };
  if (opts.credentials.sessionToken !== undefined) headers['x-amz-security-token'] = opts.credentials.sessionToken;
  const authorization = signV4({
    method: 'POST',
    url: opts.url,
    headers,
    payloadHash: sha256Hex(opts.body),
    region: opts.region,
    service: opts.service,
    accessKeyId: opts.credentials.accessKeyId,
    secretAccessKey: opts.credentials.secretAccessKey,
    amzDate: headers['x-amz-date'] ?? '',
  });
  return { ...headers, authorization };
}
