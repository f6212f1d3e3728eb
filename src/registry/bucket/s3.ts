/**
 * An S3 object as a build context (`s3://BUCKET/KEY`, issue 14), read as Kaniko reads it
 * (pkg/buildcontext/s3.go): with the AWS SDK (`S3Client` and `GetObjectCommand`, the body
 * streamed, never buffered), the SDK's default credential chain (cloud/aws-sdk-chain.ts),
 * `S3_ENDPOINT` as the endpoint and `S3_FORCE_PATH_STYLE=true` for path-style addressing (what
 * MinIO, Ceph and s3rver want). The region is AWS_REGION or AWS_DEFAULT_REGION of the build's
 * environment, else the profile's in the config file (which the SDK reads through `process.env`'s
 * AWS_CONFIG_FILE itself), else us-east-1, as the S3 API's global endpoint. The SDK tries once:
 * the context fetch tries again itself, on an emptied directory (context-object.ts).
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { resolveAwsCredentials } from '../cloud/aws-chain.js';
import { awsRequestHandler, awsSdkChain } from '../cloud/aws-sdk-chain.js';
import type { AwsCredentialProvider } from '../cloud/aws-sigv4.js';
import { CloudError } from '../cloud/http.js';
import { handOverBody, requestFailureReason } from '../http-fetch.js';
import { DEFAULT_TIMEOUTS, formatTimeout, isAbort } from '../network-error.js';
import type { BucketCredentialInputs } from './helper-context.js';
import { BucketFailure, ObjectGetFailed, type ObjectGetOptions } from './get.js';

/** Where S3 is: the endpoint (`S3_ENDPOINT`, else the SDK's `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`), addressing and region. */
export interface S3Settings {
  endpoint?: URL;
  forcePathStyle: boolean;
  /** Undefined: the profile's region in the config file, else us-east-1. */
  region?: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** The settings of the environment. */
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
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  return {
    ...(endpoint !== undefined ? { endpoint } : {}),
    forcePathStyle: (env.S3_FORCE_PATH_STYLE ?? '').toLowerCase() === 'true',
    ...(region !== undefined ? { region } : {}),
  };
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
export function refusal(
  err: ObjectGetFailed,
  bucket: string,
  key: string,
  source: string,
  region: string,
): BucketFailure {
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

/** An error of the SDK as an {@link ObjectGetFailed}: S3's status and error code, or the network failure. */
export function sdkFailure(err: unknown, o: Pick<ObjectGetOptions, 'redactor' | 'timeouts'>): ObjectGetFailed {
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    // The SDK names an error by S3's <Code>; without one, "Unknown"/"UnknownError" (or "NotFound" for a bare 404).
    const code = typeof e.name === 'string' && !/^(Unknown(Error)?|NotFound)$/.test(e.name) ? e.name : undefined;
    const message = typeof e.message === 'string' ? e.message.split('\n')[0] : undefined;
    const detail = message && message !== code && message !== 'UnknownError' ? message : undefined;
    return new ObjectGetFailed(o.redactor.apply(`${status}${code ? ` ${code}` : ''}`), {
      status,
      ...(code ? { code } : {}),
      ...(detail ? { detail: o.redactor.apply(detail).slice(0, 200) } : {}),
      cause: err,
    });
  }
  return new ObjectGetFailed(timeoutReason(err, o.timeouts) ?? requestFailureReason(err, t(o), o.redactor).reason, {
    cause: err,
  });
}

const t = (o: Pick<ObjectGetOptions, 'timeouts'>) => o.timeouts ?? DEFAULT_TIMEOUTS;

/** Which of the SDK handler's timeouts fired, in the words of Kiln's own HTTP client. */
function timeoutReason(err: unknown, timeouts = DEFAULT_TIMEOUTS): string | undefined {
  const e = err as { name?: unknown; message?: unknown };
  if (e.name !== 'TimeoutError' || typeof e.message !== 'string') return undefined;
  if (e.message.includes('establish a connection'))
    return `could not connect within ${formatTimeout(timeouts.connectMs)}`;
  if (e.message.includes('requestTimeout')) return `no response within ${formatTimeout(timeouts.headersMs)}`;
  if (e.message.includes('inactivity')) return `no data for ${formatTimeout(timeouts.bodyMs)}`;
  return undefined;
}

/**
 * Opens `s3://bucket/key`: its bytes as they arrive, or a {@link BucketFailure} saying why not.
 * One opener per context fetch, so that the credential chain is asked once for all its attempts.
 */
export function s3ObjectOpener(
  bucket: string,
  key: string,
): (inputs: BucketCredentialInputs, get: Omit<ObjectGetOptions, 'redactor'>) => Promise<Readable> {
  let chain: AwsCredentialProvider | undefined;
  return async (inputs, get) => {
    const o = { ...get, redactor: inputs.redactor };
    const settings = s3Settings(inputs.env);
    const timeouts = t(o);
    chain ??= awsSdkChain({ env: inputs.env, homeDir: inputs.homeDir, timeouts, trustedCas: inputs.trustedCas ?? [] });
    let found;
    try {
      found = await resolveAwsCredentials(chain, inputs.env, inputs.redactor);
    } catch (err) {
      if (!(err instanceof CloudError)) throw err;
      throw new BucketFailure(
        err.message,
        err.kind === 'setup'
          ? 'give the build AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (keys, role_arn, credential_process, SSO), IRSA'
          : undefined,
        { cause: err },
      );
    }
    const config: S3ClientConfig = {
      credentials: found.credentials,
      ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint.href } : {}),
      forcePathStyle: settings.forcePathStyle,
      ...(nonEmpty(inputs.env.AWS_PROFILE) !== undefined ? { profile: inputs.env.AWS_PROFILE } : {}),
      // Kiln's retry loop tries again on an emptied directory; the SDK's own would multiply it.
      maxAttempts: 1,
      requestHandler: awsRequestHandler(timeouts, inputs.trustedCas),
      ...(get.userAgent !== undefined ? { customUserAgent: get.userAgent } : {}),
    };
    let client = new S3Client({ ...config, ...(settings.region !== undefined ? { region: settings.region } : {}) });
    // Without AWS_REGION, the SDK's region (the profile's in the config file), else us-east-1.
    let region = await client.config.region().catch(() => undefined);
    if (region === undefined) {
      client.destroy();
      region = 'us-east-1';
      client = new S3Client({ ...config, region });
    }
    const where = settings.endpoint?.origin ?? `the S3 endpoint of region ${region}`;
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: get.signal });
      if (res.Body === undefined) throw new ObjectGetFailed(`${where} answered without a body`);
      return handOverBody(
        res.Body as Readable,
        timeouts,
        inputs.redactor,
        () => client.destroy(),
        (reason, _timedOut, cause) =>
          new ObjectGetFailed(`downloading: ${timeoutReason(cause, timeouts) ?? reason}`, { cause }),
      );
    } catch (err) {
      client.destroy();
      if (isAbort(err, get.signal)) throw err;
      const failed = err instanceof ObjectGetFailed ? err : sdkFailure(err, o);
      if (failed.extra.status === undefined)
        throw new BucketFailure(`S3 at ${where}: ${failed.message}`, 'check S3_ENDPOINT and the network of the build', {
          cause: failed,
        });
      const f = refusal(failed, bucket, key, found.source, region);
      throw new BucketFailure(f.message, f.hint, { cause: failed });
    }
  };
}
