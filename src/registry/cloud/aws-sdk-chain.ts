/**
 * AWS credentials from the AWS SDK's default credential chain (`defaultProvider` of
 * `@aws-sdk/credential-provider-node`), the chain Kaniko's own S3 context and the ECR helper in its
 * image use: environment variables, SSO, the shared config and credentials files (profiles with
 * `role_arn`/`source_profile`, `credential_process`, `sso_session`, `web_identity_token_file`),
 * web identity (EKS IRSA), container credentials (ECS, EKS Pod Identity) and EC2 instance
 * metadata. Kiln passes what the chain's init takes from the build's environment (the profile
 * and the files' paths, found from the build's home directory) and the build's timeouts and CAs
 * for the STS and SSO calls it makes; the SDK reads the rest of its environment (AWS_ACCESS_KEY_ID,
 * AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_*, AWS_EC2_METADATA_*) from `process.env` itself,
 * which in the CLI is the build's environment. Only the bucket context and the ECR helper load
 * this module (with `import()`), so a build that uses neither never parses the SDK.
 */
import { join } from 'node:path';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { NetworkTimeouts } from '../types.js';
import { AwsChainFailed } from './aws-chain.js';
import type { AwsCredentialProvider } from './aws-sigv4.js';
import { withRoots } from '../trust.js';

/** What the chain is made from: the build's environment and home directory, its timeouts and extra CAs. */
export interface AwsChainInputs {
  env: Record<string, string | undefined>;
  homeDir: string;
  timeouts: NetworkTimeouts;
  trustedCas?: readonly string[];
}

/** The SDK's Node HTTP handler options for the build's timeouts and CAs (TLS always verified). */
export function awsRequestHandler(t: NetworkTimeouts, trustedCas: readonly string[] = []) {
  const ca = withRoots(trustedCas);
  return {
    connectionTimeout: t.connectMs,
    // Without throwOnRequestTimeout the SDK only logs a warning when the answer is late.
    requestTimeout: t.headersMs,
    throwOnRequestTimeout: true,
    socketTimeout: t.bodyMs,
    httpsAgent: { keepAlive: true, ...(ca !== undefined ? { ca } : {}) },
  };
}

const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/**
 * Silences the SDK's warning that its releases after January 2027 will need Node 22, which it
 * prints on standard error on first use under Node 20: Kiln runs on Node 20 with the SDK pinned to
 * releases that support it (ARCHITECTURE.md §13), so a user could do nothing about it. The SDK
 * reads this switch from `process.env` only; a user who set it keeps their value.
 */
export function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** The SDK's default chain for the build (memoized: each source is asked once until its credentials expire). */
export function awsSdkChain(i: AwsChainInputs): AwsCredentialProvider {
  quietSdkNodeWarning();
  const profile = set(i.env.AWS_PROFILE);
  // Each source that found nothing says why in a debug line; the chain's own error says only
  // "Could not load credentials from any providers", so the reasons are kept for the message.
  let tried: string[] = [];
  const PREFIX = '@smithy/property-provider -> ';
  const chain = defaultProvider({
    ...(profile !== undefined ? { profile } : {}),
    filepath: set(i.env.AWS_SHARED_CREDENTIALS_FILE) ?? join(i.homeDir, '.aws', 'credentials'),
    configFilepath: set(i.env.AWS_CONFIG_FILE) ?? join(i.homeDir, '.aws', 'config'),
    // The STS (role_arn, web identity) and SSO calls the chain makes: the build's deadlines and CAs.
    clientConfig: { requestHandler: awsRequestHandler(i.timeouts, i.trustedCas), maxAttempts: 2 },
    // Given a logger, the SDK also keeps its warnings (AWS_PROFILE beside AWS_ACCESS_KEY_ID) off standard error.
    logger: {
      debug: (m: unknown) => {
        if (typeof m === 'string' && m.startsWith(PREFIX)) tried.push(m.slice(PREFIX.length).split('\n')[0] ?? '');
      },
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
  });
  return async () => {
    tried = [];
    try {
      return await chain();
    } catch (err) {
      throw new AwsChainFailed(err, [...new Set(tried)]);
    }
  };
}
