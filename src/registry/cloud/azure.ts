/**
 * The built-in `acr-env` helper (chrismellard/docker-credential-acr-env, in Kaniko's image): an
 * Azure AD access token for the service principal of the environment — AZURE_CLIENT_ID with
 * AZURE_CLIENT_SECRET, or with AZURE_FEDERATED_TOKEN_FILE (AKS workload identity) — from
 * AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com/) for AZURE_TENANT_ID, exchanged
 * at the registry's `/oauth2/exchange` for an ACR refresh token, which is the identity token
 * (acr-env answers it with Username `<token>`). The registry's token service then turns it into
 * access tokens, as for `docker login` with an identity token.
 *
 * Only ACR hosts (*.azurecr.io, .cn, .us, .de) are served through `credsStore`; any other host
 * only when `credHelpers` names it for acr-env (acr-env itself asks no questions: Docker only
 * routes the hosts config.json names to it).
 */
import { errnoCode } from '../../errors.js';
import { mayUsePlainHttp } from '../transport.js';
import { envVar, type HelperContext, type Issued } from './context.js';
import { brief, CloudError, jsonOf, stringField, type CloudRequest, type CloudResponse } from './http.js';

/** Whether a host is Azure Container Registry's. */
export function isAcrRegistry(registry: string): boolean {
  return /\.azurecr\.(?:io|cn|us|de)(?::\d+)?$/i.test(registry);
}

const ARM_SCOPE = 'https://management.azure.com/.default';
const form = { 'content-type': 'application/x-www-form-urlencoded' };

function oauthError(ctx: HelperContext, res: CloudResponse, what: string): string {
  try {
    const j = jsonOf(res, what);
    const code = typeof j.error === 'string' ? j.error : '';
    // AAD's descriptions start with an AADSTS code and a sentence; the trace ids after it are noise.
    const desc = typeof j.error_description === 'string' ? (j.error_description.split(/\r?\n/)[0] ?? '') : '';
    return [code, brief(desc, ctx.redactor)].filter((s) => s !== '').join(': ');
  } catch {
    return '';
  }
}

/** An Azure AD access token, and the credential it came from (for messages). */
export interface AadToken {
  token: string;
  tenant: string;
  source: string;
}

/** What the environment lacks to name a service principal: the first variable missing. */
export type AadMissing = { missing: 'AZURE_TENANT_ID' | 'AZURE_CLIENT_ID' | 'AZURE_CLIENT_SECRET' };

/**
 * An Azure AD access token for `scope` (ARM for ACR, Storage for a blob context) for the
 * environment's service principal, as the Azure SDKs' EnvironmentCredential and
 * WorkloadIdentityCredential read it: AZURE_TENANT_ID and AZURE_CLIENT_ID with
 * AZURE_CLIENT_SECRET, or with AZURE_FEDERATED_TOKEN_FILE (AKS workload identity), at
 * AZURE_AUTHORITY_HOST. What is missing is returned for the caller to judge; a refusal throws.
 */
export async function aadToken(ctx: HelperContext, scope: string): Promise<AadToken | AadMissing> {
  const tenant = envVar(ctx, 'AZURE_TENANT_ID');
  if (tenant === undefined) return { missing: 'AZURE_TENANT_ID' };
  const clientId = envVar(ctx, 'AZURE_CLIENT_ID');
  if (clientId === undefined) return { missing: 'AZURE_CLIENT_ID' };
  const secret = envVar(ctx, 'AZURE_CLIENT_SECRET');
  const tokenFile = envVar(ctx, 'AZURE_FEDERATED_TOKEN_FILE');
  const params: Record<string, string> = { grant_type: 'client_credentials', client_id: clientId, scope };
  let from: string;
  if (secret !== undefined) {
    ctx.redactor.add(secret);
    params.client_secret = secret;
    from = `AZURE_CLIENT_ID ${clientId} with AZURE_CLIENT_SECRET`;
  } else if (tokenFile !== undefined) {
    let assertion: string;
    try {
      assertion = (await ctx.readFile(tokenFile)).trim();
    } catch (err) {
      throw new CloudError(
        `reading AZURE_FEDERATED_TOKEN_FILE ${tokenFile}: ${errnoCode(err) ?? String(err)}`,
        'setup',
      );
    }
    ctx.redactor.add(assertion);
    params.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    params.client_assertion = assertion;
    from = `AZURE_CLIENT_ID ${clientId} with AZURE_FEDERATED_TOKEN_FILE ${tokenFile}`;
  } else {
    return { missing: 'AZURE_CLIENT_SECRET' };
  }
  const authority = (envVar(ctx, 'AZURE_AUTHORITY_HOST') ?? 'https://login.microsoftonline.com/').replace(/\/*$/, '/');
  const url = `${authority}${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
  const what = `Azure AD at ${authority}`;
  const res = await ctx.fetch({
    url,
    method: 'POST',
    headers: form,
    body: new URLSearchParams(params).toString(),
    what,
  });
  if (res.status !== 200) {
    const said = oauthError(ctx, res, what);
    const detail = `${res.status}${said ? ` ${said}` : ''}`;
    const refused = res.status === 400 || res.status === 401 || res.status === 403;
    throw new CloudError(
      refused ? `Azure AD rejected the credentials of ${from} (${detail})` : `${what} answered ${detail}`,
      refused ? 'refused' : 'answer',
      res.status,
    );
  }
  const token = stringField(jsonOf(res, what), 'access_token', what);
  ctx.redactor.add(token);
  return { token, tenant, source: from };
}

/** acr-env's messages for a service principal the environment does not name. */
const ACR_MISSING: Record<AadMissing['missing'], string> = {
  AZURE_TENANT_ID:
    'AZURE_TENANT_ID is not set (acr-env reads AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE)',
  AZURE_CLIENT_ID:
    'AZURE_CLIENT_ID is not set (acr-env reads AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE)',
  AZURE_CLIENT_SECRET:
    'neither AZURE_CLIENT_SECRET nor AZURE_FEDERATED_TOKEN_FILE is set (acr-env needs one of them with AZURE_CLIENT_ID)',
};

/** POSTs to the registry over HTTPS; plain HTTP after a network failure only where the registry client would use it too. */
async function toRegistry(
  ctx: HelperContext,
  registry: string,
  req: Omit<CloudRequest, 'url'>,
): Promise<CloudResponse> {
  try {
    return await ctx.fetch({ ...req, url: `https://${registry}/oauth2/exchange` });
  } catch (err) {
    if (!(err instanceof CloudError) || err.kind !== 'network' || !mayUsePlainHttp(registry, () => false)) throw err;
    return ctx.fetch({ ...req, url: `http://${registry}/oauth2/exchange` });
  }
}

/** An ACR refresh token for `registry`, as an identity token. */
export async function acrCredential(ctx: HelperContext, registry: string): Promise<Issued> {
  const aad = await aadToken(ctx, ARM_SCOPE);
  if ('missing' in aad) throw new CloudError(ACR_MISSING[aad.missing], 'setup');
  const { token, tenant } = aad;
  const what = `the ACR token exchange of ${registry}`;
  const body = new URLSearchParams({ grant_type: 'access_token', service: registry, tenant, access_token: token });
  const res = await toRegistry(ctx, registry, { method: 'POST', headers: form, body: body.toString(), what });
  if (res.status !== 200) {
    const detail = oauthError(ctx, res, what);
    const refused = res.status === 400 || res.status === 401 || res.status === 403;
    throw new CloudError(
      `${refused ? `${registry} refused the Azure AD token of the service principal` : `${what} answered`} (${res.status}${detail ? ` ${detail}` : ''})`,
      refused ? 'refused' : 'answer',
      res.status,
    );
  }
  const refresh = stringField(jsonOf(res, what), 'refresh_token', what);
  ctx.redactor.add(refresh);
  // ACR refresh tokens live 3 hours; the exchange does not say so, so the cache keeps it for one.
  return { credential: { identityToken: refresh }, expires: new Date(ctx.now().getTime() + 3600_000) };
}
