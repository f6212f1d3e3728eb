/**
 * The built-in `gcr` and `gcloud` helpers: an OAuth2 access token from Google's application
 * default credentials, sent as the password of `oauth2accesstoken` (what GCR and Artifact
 * Registry accept). docker-credential-gcr looks, in order, at GOOGLE_APPLICATION_CREDENTIALS (a
 * service-account key: a JWT signed RS256, exchanged at its `token_uri`; or an `authorized_user`
 * file: a refresh-token exchange), the gcloud well-known file, and the GCE/GKE metadata server
 * (GCE_METADATA_HOST, default metadata.google.internal). `gcloud` (docker-credential-gcloud runs
 * `gcloud auth print-access-token`) is served the same way: Kaniko's image has no gcloud SDK,
 * and in a build pod the account gcloud would use is the same application default one.
 *
 * Only Google's registry hosts (gcr.io, *.gcr.io, *.pkg.dev) get a token through `credsStore`,
 * which applies to every registry; any other host only when `credHelpers` names it for this
 * helper, so a Google token never goes to Docker Hub by accident.
 */
import { createSign } from 'node:crypto';
import { join } from 'node:path';
import { errnoCode } from '../../errors.js';
import { envVar, type HelperContext, type Issued } from './context.js';
import { brief, CloudError, jsonOf, stringField, type CloudResponse } from './http.js';

/** Whether a host is Google's (Container Registry or Artifact Registry). */
export function isGoogleRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').toLowerCase();
  return host === 'gcr.io' || host.endsWith('.gcr.io') || host.endsWith('.pkg.dev');
}

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

/** A token answer of Google's OAuth2 endpoints or the metadata server: `access_token`, `expires_in`. */
function issued(ctx: HelperContext, res: CloudResponse, what: string, from: string): Issued {
  if (res.status !== 200) {
    let detail = '';
    try {
      const j = jsonOf(res, what);
      detail = [j.error, j.error_description].filter((x) => typeof x === 'string').join(': ');
    } catch {
      // Not JSON: the status says enough.
    }
    const refused = res.status === 400 || res.status === 401 || res.status === 403;
    const said = `${res.status}${detail ? ` ${brief(detail, ctx.redactor)}` : ''}`;
    throw new CloudError(
      refused ? `Google rejected the credentials from ${from} (${said})` : `${what} answered ${said}`,
      refused ? 'refused' : 'answer',
      res.status,
    );
  }
  const json = jsonOf(res, what);
  const token = stringField(json, 'access_token', what);
  ctx.redactor.add(token);
  const seconds = typeof json.expires_in === 'number' ? json.expires_in : undefined;
  return {
    credential: { username: 'oauth2accesstoken', password: token },
    ...(seconds !== undefined ? { expires: new Date(ctx.now().getTime() + seconds * 1000) } : {}),
  };
}

async function fromKeyFile(ctx: HelperContext, path: string, text: string): Promise<Issued> {
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CloudError(`${path} is not valid JSON`, 'setup');
  }
  const from = `${path} (${String(key.type)})`;
  if (key.type === 'service_account') {
    const email = stringField(key, 'client_email', path);
    const pem = stringField(key, 'private_key', path);
    const tokenUri = typeof key.token_uri === 'string' ? key.token_uri : GOOGLE_TOKEN_URI;
    const iat = Math.floor(ctx.now().getTime() / 1000);
    const header = {
      alg: 'RS256',
      typ: 'JWT',
      ...(typeof key.private_key_id === 'string' ? { kid: key.private_key_id } : {}),
    };
    const claims = { iss: email, scope: SCOPE, aud: tokenUri, iat, exp: iat + 3600 };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    let signature: string;
    try {
      signature = createSign('RSA-SHA256').update(unsigned).sign(pem, 'base64url');
    } catch {
      throw new CloudError(`the private_key of ${path} is not a usable RSA key`, 'setup');
    }
    const jwt = `${unsigned}.${signature}`;
    ctx.redactor.add(jwt);
    const what = `Google's token endpoint ${tokenUri}`;
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt });
    const res = await ctx.fetch({ url: tokenUri, method: 'POST', headers: form, body: body.toString(), what });
    return issued(ctx, res, what, from);
  }
  if (key.type === 'authorized_user') {
    const secret = stringField(key, 'client_secret', path);
    const refresh = stringField(key, 'refresh_token', path);
    ctx.redactor.add(secret);
    ctx.redactor.add(refresh);
    const tokenUri = typeof key.token_uri === 'string' ? key.token_uri : GOOGLE_TOKEN_URI;
    const what = `Google's token endpoint ${tokenUri}`;
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: stringField(key, 'client_id', path),
      client_secret: secret,
      refresh_token: refresh,
    });
    const res = await ctx.fetch({ url: tokenUri, method: 'POST', headers: form, body: body.toString(), what });
    return issued(ctx, res, what, from);
  }
  throw new CloudError(
    `${path} is of type ${JSON.stringify(key.type)}; Kiln's built-in helper reads service_account and authorized_user files`,
    'setup',
  );
}

/** An access token from the application default credentials. */
export async function googleCredential(ctx: HelperContext): Promise<Issued> {
  const explicit = envVar(ctx, 'GOOGLE_APPLICATION_CREDENTIALS');
  const path = explicit ?? join(ctx.homeDir, '.config', 'gcloud', 'application_default_credentials.json');
  let text: string | undefined;
  try {
    text = await ctx.readFile(path);
  } catch (err) {
    const code = errnoCode(err);
    if (explicit !== undefined || (code !== 'ENOENT' && code !== 'ENOTDIR'))
      throw new CloudError(`reading GOOGLE_APPLICATION_CREDENTIALS ${path}: ${code ?? String(err)}`, 'setup');
  }
  if (text !== undefined) return fromKeyFile(ctx, path, text);
  const given = envVar(ctx, 'GCE_METADATA_HOST');
  const host = given ?? 'metadata.google.internal';
  const url = `http://${host}/computeMetadata/v1/instance/service-accounts/default/token`;
  const what = `the GCE metadata server at http://${host} (no GOOGLE_APPLICATION_CREDENTIALS set)`;
  try {
    const res = await ctx.metadataFetch({ url, method: 'GET', headers: { 'metadata-flavor': 'Google' }, what });
    return issued(ctx, res, what, `the GCE metadata server at http://${host}`);
  } catch (err) {
    // Off Google Cloud, with no credentials file either, there are no Google credentials at all:
    // anonymous, as docker-credential-gcr answers "credentials not found", so public images
    // (gcr.io/distroless…) still pull with Kaniko's usual credHelpers config. A metadata server
    // the user named is a real failure.
    if (given === undefined && err instanceof CloudError && err.kind === 'network')
      throw new CloudError(`no Google credentials found: ${err.message}`, 'none');
    throw err;
  }
}
