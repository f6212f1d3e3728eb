/**
 * What Kiln makes of the AWS SDK's default credential chain (aws-sdk-chain.ts) for messages: where
 * the credentials came from, every secret kept in the redactor, and a failure of the chain as a
 * CloudError worded as Kiln's other cloud errors. Free of the SDK itself, which
 * {@link lazyAwsChain} loads with `import()` only when credentials are first asked for.
 */
import { classifyNetworkError } from '../network-error.js';
import type { Redactor } from '../redact.js';
import type { AwsChainInputs } from './aws-sdk-chain.js';
import type { AwsCredentialProvider, AwsIdentity } from './aws-sigv4.js';
import { CloudError } from './http.js';

/**
 * The SDK's default chain, loaded with `import()` when first asked: the built-in helpers' chunk
 * stays free of the AWS SDK for builds that name only `gcr` or `acr-env`.
 */
export function lazyAwsChain(i: AwsChainInputs): AwsCredentialProvider {
  let chain: Promise<AwsCredentialProvider> | undefined;
  return async () => (await (chain ??= import('./aws-sdk-chain.js').then((m) => m.awsSdkChain(i))))();
}

const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** Where credentials came from, from the features the SDK marks them with (`$source`), for messages. */
export function credentialSource(c: AwsIdentity, env: Record<string, string | undefined>): string {
  const has = (...features: string[]): boolean => features.some((f) => c.$source?.[f] !== undefined);
  const profile = `profile ${set(env.AWS_PROFILE) ?? 'default'}`;
  if (has('CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', 'CREDENTIALS_STS_ASSUME_ROLE_WEB_ID'))
    return `web identity (AWS_ROLE_ARN ${set(env.AWS_ROLE_ARN) ?? `of ${profile}`})`;
  if (has('CREDENTIALS_PROFILE_SSO', 'CREDENTIALS_SSO', 'CREDENTIALS_PROFILE_SSO_LEGACY', 'CREDENTIALS_SSO_LEGACY'))
    return `the SSO session of ${profile}`;
  if (has('CREDENTIALS_PROFILE_PROCESS', 'CREDENTIALS_PROCESS')) return `the credential_process of ${profile}`;
  if (has('CREDENTIALS_STS_ASSUME_ROLE', 'CREDENTIALS_PROFILE_SOURCE_PROFILE'))
    return `the role_arn of ${profile}, assumed at STS`;
  if (has('CREDENTIALS_PROFILE', 'CREDENTIALS_PROFILE_NAMED_PROVIDER'))
    return `${profile} of the shared config and credentials files`;
  if (has('CREDENTIALS_ENV_VARS')) return 'environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  if (has('CREDENTIALS_HTTP')) return 'the container credentials endpoint';
  return 'the AWS default credential chain';
}

/** Credentials and where they came from (`environment variables AWS_ACCESS_KEY_ID…`). */
export interface FoundAwsCredentials {
  credentials: AwsIdentity;
  source: string;
}

/** A failure of the SDK's chain, with what each source it tried said (the SDK's own error keeps only the last). */
export class AwsChainFailed extends Error {
  constructor(
    readonly sdkError: unknown,
    readonly tried: readonly string[],
  ) {
    super(sdkError instanceof Error ? sdkError.message : String(sdkError), { cause: sdkError });
  }
}

/** Sources of the chain that are skipped whenever they are not configured: no news for the user. */
const ROUTINE = /^(AWS_PROFILE is set, skipping fromEnv|Skipping SSO provider in default chain)/;

/** The chain's failure as a CloudError: nothing found, a refusal (STS, SSO), a network failure, or a setup error. */
export function chainFailure(failure: unknown, redactor: Redactor): CloudError {
  const err = failure instanceof AwsChainFailed ? failure.sdkError : failure;
  const tried = failure instanceof AwsChainFailed ? failure.tried.filter((t) => t !== '' && !ROUTINE.test(t)) : [];
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const message = redactor.apply(typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '') : String(err));
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    const said = `${status} ${String(e.name)}${message && message !== e.name ? `: ${message}` : ''}`;
    return new CloudError(
      `AWS refused the credentials of the build (${said})`,
      status < 500 ? 'refused' : 'answer',
      status,
    );
  }
  const network = classifyNetworkError(err);
  if (network !== undefined) return new CloudError(`reading AWS credentials: ${network.reason}`, 'network');
  if (/could not load credentials from any providers/i.test(message))
    return new CloudError(
      'no AWS credentials found (the AWS SDK default chain looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ' +
        'AWS_PROFILE and the shared config and credentials files, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, ' +
        `AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI and EC2 instance metadata${tried.length > 0 ? `: ${redactor.apply(tried.join('; '))}` : ''})`,
      'setup',
    );
  return new CloudError(`reading AWS credentials: ${message}`, 'setup');
}

/** Asks `provider` for credentials, keeping their secrets in `redactor`; a failure is a CloudError. */
export async function resolveAwsCredentials(
  provider: AwsCredentialProvider,
  env: Record<string, string | undefined>,
  redactor: Redactor,
): Promise<FoundAwsCredentials> {
  let credentials: AwsIdentity;
  try {
    credentials = await provider();
  } catch (err) {
    throw chainFailure(err, redactor);
  }
  redactor.add(credentials.secretAccessKey);
  redactor.add(credentials.sessionToken);
  return { credentials, source: credentialSource(credentials, env) };
}
