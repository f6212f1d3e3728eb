/**
 * AWS credentials, found the way the SDKs' default chain finds them (docs.aws.amazon.com/sdkref,
 * "Standardized credential providers"), as far as a build needs: environment variables, the
 * shared credentials file, web identity (EKS IRSA: AssumeRoleWithWebIdentity at STS, unsigned),
 * container credentials (ECS task roles, EKS Pod Identity) and EC2 instance metadata (IMDSv2).
 * Each result says where it came from, for the message when AWS rejects it.
 */
import { join } from 'node:path';
import { errnoCode } from '../../errors.js';
import type { AwsCredentials } from './aws-sigv4.js';
import { envVar, type HelperContext } from './context.js';
import { brief, CloudError, jsonOf, stringField } from './http.js';

/** Credentials and where they were found (`environment variables AWS_ACCESS_KEY_ID…`). */
export interface FoundAwsCredentials {
  credentials: AwsCredentials;
  source: string;
}

async function readOptional(ctx: HelperContext, path: string): Promise<string | undefined> {
  try {
    return await ctx.readFile(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new CloudError(`reading ${path}: ${errnoCode(err) ?? String(err)}`, 'setup');
  }
}

/** The `[profile]` section of an INI file as key → value (the shared credentials file's format). */
export function iniSection(text: string, profile: string): Record<string, string> | undefined {
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = header[1];
      if (current === profile) found ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current === profile && found !== undefined && eq > 0)
      found[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return found;
}

function fromEnv(ctx: HelperContext): FoundAwsCredentials | undefined {
  const id = envVar(ctx, 'AWS_ACCESS_KEY_ID');
  const secret = envVar(ctx, 'AWS_SECRET_ACCESS_KEY');
  if (id === undefined || secret === undefined) return undefined;
  const token = envVar(ctx, 'AWS_SESSION_TOKEN');
  ctx.redactor.add(secret);
  ctx.redactor.add(token);
  return {
    credentials: { accessKeyId: id, secretAccessKey: secret, ...(token !== undefined ? { sessionToken: token } : {}) },
    source: 'environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  };
}

async function fromSharedFile(ctx: HelperContext): Promise<FoundAwsCredentials | undefined> {
  const path = envVar(ctx, 'AWS_SHARED_CREDENTIALS_FILE') ?? join(ctx.homeDir, '.aws', 'credentials');
  const profile = envVar(ctx, 'AWS_PROFILE') ?? 'default';
  const text = await readOptional(ctx, path);
  if (text === undefined) return undefined;
  const s = iniSection(text, profile);
  const id = s?.aws_access_key_id;
  const secret = s?.aws_secret_access_key;
  if (id === undefined || id === '' || secret === undefined || secret === '') return undefined;
  const token = s?.aws_session_token;
  ctx.redactor.add(secret);
  ctx.redactor.add(token);
  return {
    credentials: { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) },
    source: `profile ${profile} of ${path}`,
  };
}

const xmlField = (xml: string, name: string): string | undefined =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** STS's endpoint: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the regional one (global without a region). */
function stsEndpoint(ctx: HelperContext): string {
  const explicit = envVar(ctx, 'AWS_ENDPOINT_URL_STS') ?? envVar(ctx, 'AWS_ENDPOINT_URL');
  if (explicit !== undefined) return explicit;
  const region = envVar(ctx, 'AWS_REGION') ?? envVar(ctx, 'AWS_DEFAULT_REGION');
  if (region === undefined) return 'https://sts.amazonaws.com/';
  return `https://sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`;
}

async function fromWebIdentity(ctx: HelperContext): Promise<FoundAwsCredentials | undefined> {
  const tokenFile = envVar(ctx, 'AWS_WEB_IDENTITY_TOKEN_FILE');
  const role = envVar(ctx, 'AWS_ROLE_ARN');
  if (tokenFile === undefined || role === undefined) return undefined;
  const token = (await readOptional(ctx, tokenFile))?.trim();
  if (token === undefined) throw new CloudError(`AWS_WEB_IDENTITY_TOKEN_FILE ${tokenFile} does not exist`, 'setup');
  ctx.redactor.add(token);
  const url = stsEndpoint(ctx);
  const what = `AWS STS at ${url}`;
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: role,
    RoleSessionName: envVar(ctx, 'AWS_ROLE_SESSION_NAME') ?? `kiln-${ctx.now().getTime()}`,
    WebIdentityToken: token,
  }).toString();
  const res = await ctx.fetch({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    what,
  });
  const source = `web identity (AWS_ROLE_ARN ${role}, AWS_WEB_IDENTITY_TOKEN_FILE ${tokenFile})`;
  if (res.status !== 200) {
    const code = xmlField(res.text, 'Code') ?? '';
    const msg = xmlField(res.text, 'Message') ?? '';
    throw new CloudError(
      `${what} refused the ${source} (${res.status}${code ? ` ${code}` : ''}${msg ? `: ${brief(msg, ctx.redactor)}` : ''})`,
      res.status === 400 || res.status === 401 || res.status === 403 ? 'refused' : 'answer',
      res.status,
    );
  }
  const id = xmlField(res.text, 'AccessKeyId');
  const secret = xmlField(res.text, 'SecretAccessKey');
  const session = xmlField(res.text, 'SessionToken');
  if (!id || !secret || !session) throw new CloudError(`${what} answered without credentials`, 'answer');
  ctx.redactor.add(secret);
  ctx.redactor.add(session);
  return { credentials: { accessKeyId: id, secretAccessKey: secret, sessionToken: session }, source };
}

/** ECS's container credentials address (docs: "Container credential provider"). */
const ECS_HOST = 'http://169.254.170.2';

async function fromContainer(ctx: HelperContext): Promise<FoundAwsCredentials | undefined> {
  const full = envVar(ctx, 'AWS_CONTAINER_CREDENTIALS_FULL_URI');
  const relative = envVar(ctx, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
  const url = full ?? (relative !== undefined ? `${ECS_HOST}${relative}` : undefined);
  if (url === undefined) return undefined;
  const tokenFile = envVar(ctx, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE');
  const auth =
    tokenFile !== undefined
      ? (await readOptional(ctx, tokenFile))?.trim()
      : envVar(ctx, 'AWS_CONTAINER_AUTHORIZATION_TOKEN');
  ctx.redactor.add(auth);
  const what = `the container credentials endpoint ${url}`;
  const res = await ctx.metadataFetch({
    url,
    method: 'GET',
    headers: auth !== undefined ? { authorization: auth } : {},
    what,
  });
  if (res.status !== 200) {
    throw new CloudError(
      `${what} answered ${res.status}`,
      res.status === 401 || res.status === 403 ? 'refused' : 'answer',
      res.status,
    );
  }
  const json = jsonOf(res, what);
  const secret = stringField(json, 'SecretAccessKey', what);
  const token = typeof json.Token === 'string' ? json.Token : undefined;
  ctx.redactor.add(secret);
  ctx.redactor.add(token);
  return {
    credentials: {
      accessKeyId: stringField(json, 'AccessKeyId', what),
      secretAccessKey: secret,
      ...(token !== undefined ? { sessionToken: token } : {}),
    },
    source: what,
  };
}

/**
 * EC2 instance metadata (IMDSv2: a session token from `PUT /latest/api/token`, then the role's
 * credentials), where a runner on EC2 or an EKS node without IRSA gets its instance profile.
 * AWS_EC2_METADATA_DISABLED=true skips it; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
 */
async function fromInstanceMetadata(ctx: HelperContext): Promise<FoundAwsCredentials | undefined> {
  if (envVar(ctx, 'AWS_EC2_METADATA_DISABLED')?.toLowerCase() === 'true') return undefined;
  const base = (envVar(ctx, 'AWS_EC2_METADATA_SERVICE_ENDPOINT') ?? 'http://169.254.169.254').replace(/\/+$/, '');
  const what = `EC2 instance metadata at ${base}`;
  const tokenRes = await ctx.metadataFetch({
    url: `${base}/latest/api/token`,
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
    what,
  });
  if (tokenRes.status !== 200) throw new CloudError(`${what} refused a session token (${tokenRes.status})`, 'answer');
  const token = tokenRes.text.trim();
  ctx.redactor.add(token);
  const headers = { 'x-aws-ec2-metadata-token': token };
  const path = `${base}/latest/meta-data/iam/security-credentials/`;
  const roleRes = await ctx.metadataFetch({ url: path, method: 'GET', headers, what });
  if (roleRes.status === 404) throw new CloudError(`${what}: the instance has no IAM role`, 'setup');
  const role = roleRes.text.trim().split('\n')[0] ?? '';
  if (roleRes.status !== 200 || role === '') throw new CloudError(`${what} answered ${roleRes.status}`, 'answer');
  const res = await ctx.metadataFetch({ url: `${path}${encodeURIComponent(role)}`, method: 'GET', headers, what });
  if (res.status !== 200) throw new CloudError(`${what} answered ${res.status}`, 'answer');
  const json = jsonOf(res, what);
  const secret = stringField(json, 'SecretAccessKey', what);
  const session = stringField(json, 'Token', what);
  ctx.redactor.add(secret);
  ctx.redactor.add(session);
  return {
    credentials: {
      accessKeyId: stringField(json, 'AccessKeyId', what),
      secretAccessKey: secret,
      sessionToken: session,
    },
    source: `the instance profile role ${role} of ${what}`,
  };
}

/**
 * The first credentials of the chain: environment, shared credentials file, web identity,
 * container credentials, EC2 instance metadata. When none is configured and instance metadata
 * does not answer, the CloudError says where Kiln looked and why the metadata service failed.
 */
export async function awsCredentials(ctx: HelperContext): Promise<FoundAwsCredentials> {
  const found =
    fromEnv(ctx) ?? (await fromSharedFile(ctx)) ?? (await fromWebIdentity(ctx)) ?? (await fromContainer(ctx));
  if (found !== undefined) return found;
  let imds: string;
  try {
    const fromImds = await fromInstanceMetadata(ctx);
    if (fromImds !== undefined) return fromImds;
    imds = 'AWS_EC2_METADATA_DISABLED is true';
  } catch (err) {
    if (!(err instanceof CloudError)) throw err;
    imds = err.message;
  }
  throw new CloudError(
    'no AWS credentials found (looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared credentials file, ' +
      'AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI, ' +
      `and EC2 instance metadata: ${imds})`,
    'setup',
  );
}
