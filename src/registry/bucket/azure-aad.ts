/**
 * An Azure AD access token for Azure Storage (scope `https://storage.azure.com/.default`), for an
 * Azure blob context when no account key is given (issue 14): the service principal of the
 * environment as the Azure SDKs' EnvironmentCredential and WorkloadIdentityCredential read it —
 * AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, or with AZURE_FEDERATED_TOKEN_FILE
 * (AKS workload identity) — at AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com/).
 * Kaniko itself reads only AZURE_STORAGE_ACCESS_KEY; this is what a pod without a key has.
 * The exchange is cloud/azure.ts's `aadToken`, which acr-env asks for an ARM-scoped token.
 */
import { aadToken } from '../cloud/azure.js';
import type { HelperContext } from '../cloud/context.js';

const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** A bearer token for Azure Storage and the credential it came from (for messages). */
export interface StorageToken {
  token: string;
  source: string;
}

/**
 * The token, or undefined when the environment names no service principal (then the read is
 * anonymous). Throws a CloudError when Azure AD refuses or cannot be reached.
 */
export async function storageAadToken(ctx: HelperContext): Promise<StorageToken | undefined> {
  const aad = await aadToken(ctx, STORAGE_SCOPE);
  return 'missing' in aad ? undefined : { token: aad.token, source: `the Azure AD token of ${aad.source}` };
}
