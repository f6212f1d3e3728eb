/**
 * The built-in `acr-env` helper (chrismellard/docker-credential-acr-env, in Kaniko's image): an
 * ARM-scoped Azure AD access token from `@azure/identity` (azure-identity.ts: the environment's
 * service principal with a secret, a certificate or a federated token, else the managed
 * identity), exchanged at the registry's `/oauth2/exchange` for an ACR refresh token, which is the identity token
 * (acr-env answers it with Username `<token>`). The registry's token service then turns it into
 * access tokens, as for `docker login` with an identity token.
 *
 * Only ACR hosts (*.azurecr.io, .cn, .us, .de) are served through `credsStore`; any other host
 * only when `credHelpers` names it for acr-env (acr-env itself asks no questions: Docker only
 * routes the hosts config.json names to it).
 */
import { mayUsePlainHttp } from '../transport.js';
import type { HelperContext, Issued } from './context.js';
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
  // Loaded here, so that a build whose config.json names ecr-login or gcr never parses the Azure SDK.
  const { azureToken } = await import('./azure-identity.js');
  let aad;
  try {
    aad = await azureToken({ ctx, ...(ctx.trustedCas ? { trustedCas: ctx.trustedCas } : {}) }, ARM_SCOPE);
  } catch (err) {
    // acr-env has nothing to fall back to: no credentials at all is an error, not anonymous.
    if (err instanceof CloudError && err.kind === 'none') throw new CloudError(err.message, 'setup');
    throw err;
  }
  const { token, tenant } = aad;
  const what = `the ACR token exchange of ${registry}`;
  const body = new URLSearchParams({
    grant_type: 'access_token',
    service: registry,
    ...(tenant !== undefined ? { tenant } : {}),
    access_token: token,
  });
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
