/**
 * The built-in `ecr-login` helper (awslabs/amazon-ecr-credential-helper): ECR's
 * `GetAuthorizationToken` (JSON 1.1 protocol, SigV4-signed), whose token is base64 `AWS:password`.
 * The registry's account and region come from its host name, `ACCOUNT.dkr.ecr.REGION.amazonaws.com`
 * (and the `.cn`, FIPS and dual-stack forms). Like the real helper, a host that is not an ECR
 * host gets no credentials (anonymous), unless config.json's `credHelpers` names that host for
 * ecr-login and AWS_ENDPOINT_URL_ECR (or AWS_ENDPOINT_URL) points at a non-AWS ECR API
 * (LocalStack, a proxy, a test): then the token of the endpoint's default registry is used, and
 * only if the `proxyEndpoint` it comes with names this very host, so an AWS token never goes to
 * a host the ECR API did not name. The AWS credentials come from the AWS SDK's default chain
 * (aws-chain.ts, as the real helper uses the Go SDK's), the call itself is Kiln's: one signed POST.
 */
import { Buffer } from 'node:buffer';
import type { Credential } from '../types.js';
import { resolveAwsCredentials } from './aws-chain.js';
import { signedHeaders } from './aws-sigv4.js';
import { envVar, type HelperContext, type Issued } from './context.js';
import { brief, CloudError, jsonOf } from './http.js';

/** An ECR registry named by its host. */
export interface EcrHost {
  account: string;
  region: string;
  fips: boolean;
}

const ECR_HOST =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9][a-z0-9-]*)\.(?:amazonaws\.com(?:\.cn)?|on\.aws|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/i;

/** The account and region of an ECR host (`host[:port]`), or undefined for any other host. */
export function parseEcrHost(registry: string): EcrHost | undefined {
  const m = ECR_HOST.exec(registry.replace(/:\d+$/, ''));
  if (!m) return undefined;
  return { account: m[1] ?? '', fips: m[2] !== undefined, region: (m[3] ?? '').toLowerCase() };
}

/** The ECR API endpoint: AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, else AWS's for the region. */
export function ecrEndpoint(ctx: HelperContext, host: EcrHost | undefined, region: string): string {
  const explicit = envVar(ctx, 'AWS_ENDPOINT_URL_ECR') ?? envVar(ctx, 'AWS_ENDPOINT_URL');
  if (explicit !== undefined) return explicit;
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return host?.fips === true ? `https://ecr-fips.${region}.${domain}/` : `https://api.ecr.${region}.${domain}/`;
}

/** Error types of AWS's JSON protocol that mean "these credentials are not accepted". */
const REFUSALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'AccessDeniedException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

const TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';

/** Credentials for `registry` from ECR; undefined for a host ECR does not serve. */
export async function ecrCredential(
  ctx: HelperContext,
  registry: string,
  explicit: boolean,
): Promise<Issued | undefined> {
  const host = parseEcrHost(registry);
  const endpointSet =
    envVar(ctx, 'AWS_ENDPOINT_URL_ECR') !== undefined || envVar(ctx, 'AWS_ENDPOINT_URL') !== undefined;
  if (host === undefined && !(explicit && endpointSet)) return undefined;
  const region = host?.region ?? envVar(ctx, 'AWS_REGION') ?? envVar(ctx, 'AWS_DEFAULT_REGION');
  if (region === undefined)
    throw new CloudError(`${registry} is not an ECR host name, so it names no region: set AWS_REGION`, 'setup');
  if (ctx.awsCredentials === undefined) throw new Error('internal: ecr-login without an AWS credential chain');
  const found = await resolveAwsCredentials(ctx.awsCredentials, ctx.env, ctx.redactor);
  const url = ecrEndpoint(ctx, host, region);
  const what = `the ECR API at ${url}`;
  const body = JSON.stringify(host !== undefined ? { registryIds: [host.account] } : {});
  const headers = signedHeaders({
    url: new URL(url),
    body,
    region,
    service: 'ecr',
    credentials: found.credentials,
    now: ctx.now(),
    extra: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': TARGET },
  });
  const res = await ctx.fetch({ url, method: 'POST', headers, body, what });
  if (res.status !== 200) {
    let type = '';
    let message = '';
    try {
      const json = jsonOf(res, what);
      const str = (v: unknown): string => (typeof v === 'string' ? v : '');
      type = str(json.__type ?? json.code).replace(/^.*#/, '');
      message = str(json.message ?? json.Message);
    } catch {
      // Not JSON (a proxy's page): the status says enough.
    }
    const detail = `${res.status}${type ? ` ${type}` : ''}${message ? `: ${brief(message, ctx.redactor)}` : ''}`;
    if (res.status === 401 || res.status === 403 || REFUSALS.has(type))
      throw new CloudError(`AWS rejected the credentials from ${found.source} (${detail})`, 'refused', res.status);
    throw new CloudError(`${what} answered ${detail}`, 'answer', res.status);
  }
  const data = (jsonOf(res, what).authorizationData as unknown[] | undefined)?.[0] as
    { authorizationToken?: unknown; proxyEndpoint?: unknown; expiresAt?: unknown } | undefined;
  if (typeof data?.authorizationToken !== 'string')
    throw new CloudError(`${what} answered without an authorization token`, 'answer');
  if (host === undefined) {
    const named = typeof data.proxyEndpoint === 'string' ? data.proxyEndpoint.replace(/^[a-z]+:\/\//i, '') : '';
    if (named.replace(/\/.*$/, '').toLowerCase() !== registry.toLowerCase())
      throw new CloudError(`${what} issued a token for ${named || 'no proxyEndpoint'}, not for ${registry}`, 'answer');
  }
  ctx.redactor.add(data.authorizationToken);
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new CloudError(`${what} answered a token that is not base64 of user:password`, 'answer');
  const credential: Credential = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  ctx.redactor.addBasic(credential.username ?? '', credential.password ?? '');
  // expiresAt is epoch seconds (JSON protocol timestamps); ECR tokens last 12 hours.
  const expires = typeof data.expiresAt === 'number' ? new Date(data.expiresAt * 1000) : undefined;
  return { credential, ...(expires !== undefined ? { expires } : {}) };
}
