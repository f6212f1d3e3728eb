/**
 * An Azure AD access token for Azure Storage (scope `https://storage.azure.com/.default`), for an
 * Azure blob context when no account key is given (issue 14): the service principal of the
 * environment as the Azure SDKs' EnvironmentCredential and WorkloadIdentityCredential read it —
 * AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, or with AZURE_FEDERATED_TOKEN_FILE
 * (AKS workload identity) — at AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com/).
 * Kaniko itself reads only AZURE_STORAGE_ACCESS_KEY; this is what a pod without a key has.
 * cloud/azure.ts asks the same endpoint for an ARM-scoped token (ACR); it is not changed here.
 */
import { errnoCode } from '../../errors.js';
import { envVar, type HelperContext } from '../cloud/context.js';
import { brief, CloudError, jsonOf, stringField } from '../cloud/http.js';

const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** A bearer token for Azure Storage and the credential it came from (for messages). */
export interface StorageToken {
  token: string;
  source: string;
}

/**
 * The token, or undefined when the environment names no service principal (AZURE_CLIENT_ID and
 * AZURE_TENANT_ID unset). Throws a CloudError when Azure AD refuses or cannot be reached.
 */
export async function storageAadToken(ctx: HelperContext): Promise<StorageToken | undefined> {
  const tenant = envVar(ctx, 'AZURE_TENANT_ID');
  const clientId = envVar(ctx, 'AZURE_CLIENT_ID');
  if (tenant === undefined || clientId === undefined) return undefined;
  const secret = envVar(ctx, 'AZURE_CLIENT_SECRET');
  const tokenFile = envVar(ctx, 'AZURE_FEDERATED_TOKEN_FILE');
  const params: Record<string, string> = {
    grant_type: 'client_credentials',
    client_id: clientId,
    scope: STORAGE_SCOPE,
  };
  let source: string;
  if (secret !== undefined) {
    ctx.redactor.add(secret);
    params.client_secret = secret;
    source = `AZURE_CLIENT_ID ${clientId} with AZURE_CLIENT_SECRET`;
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
    source = `AZURE_CLIENT_ID ${clientId} with AZURE_FEDERATED_TOKEN_FILE ${tokenFile}`;
  } else {
    return undefined;
  }
  const authority = (envVar(ctx, 'AZURE_AUTHORITY_HOST') ?? 'https://login.microsoftonline.com/').replace(/\/*$/, '/');
  const what = `Azure AD at ${authority}`;
  const res = await ctx.fetch({
    url: `${authority}${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    what,
  });
  if (res.status !== 200) {
    let said = '';
    try {
      const j = jsonOf(res, what);
      // AAD's descriptions start with an AADSTS code and a sentence; the trace ids after it are noise.
      const desc = typeof j.error_description === 'string' ? (j.error_description.split(/\r?\n/)[0] ?? '') : '';
      said = [typeof j.error === 'string' ? j.error : '', brief(desc, ctx.redactor)].filter((s) => s !== '').join(': ');
    } catch {
      // Not JSON: the status says enough.
    }
    const refused = res.status === 400 || res.status === 401 || res.status === 403;
    const detail = `${res.status}${said ? ` ${said}` : ''}`;
    throw new CloudError(
      refused ? `Azure AD rejected the credentials of ${source} (${detail})` : `${what} answered ${detail}`,
      refused ? 'refused' : 'answer',
      res.status,
    );
  }
  const token = stringField(jsonOf(res, what), 'access_token', what);
  ctx.redactor.add(token);
  return { token, source: `the Azure AD token of ${source}` };
}
