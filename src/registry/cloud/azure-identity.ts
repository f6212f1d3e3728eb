/**
 * An Azure AD access token from `@azure/identity` (issue 14: the official client libraries), one
 * path for the built-in `acr-env` helper (an ARM-scoped token, azure.ts) and for an Azure blob
 * context without an account key (a Storage-scoped one, bucket/azure-blob.ts). The credential is
 * chosen from the build's environment as the SDK's EnvironmentCredential, WorkloadIdentityCredential
 * and ManagedIdentityCredential read it:
 * - AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH
 *   (and AZURE_CLIENT_CERTIFICATE_PASSWORD) or AZURE_FEDERATED_TOKEN_FILE (AKS workload identity),
 *   at AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com/);
 * - otherwise the managed identity of the VM, node or App Service (AZURE_CLIENT_ID naming a
 *   user-assigned one). The SDK (MSAL) finds its endpoint in process.env itself (IDENTITY_ENDPOINT,
 *   MSI_ENDPOINT, AZURE_POD_IDENTITY_AUTHORITY_HOST, else IMDS at 169.254.169.254): it cannot be
 *   handed another environment.
 * Every call has a deadline, the build's extra CAs reach the SDK's HTTPS requests, every secret
 * seen goes into the redactor, and errors are {@link CloudError}s worded as before the SDK.
 * This module is loaded only through `import()` (credentials.ts, remote-context.ts): the SDK is
 * never parsed by a build that does not use Azure.
 */
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type ClientSecretCredentialOptions,
  type ManagedIdentityCredentialClientIdOptions,
  type TokenCredential,
} from '@azure/identity';
import { errnoCode } from '../../errors.js';
import { formatTimeout } from '../network-error.js';
import type { Redactor } from '../redact.js';
import type { HelperContext } from './context.js';
import { CloudError } from './http.js';
import { withRoots } from '../trust.js';

/** The SDK's credential interface, for the Storage client (this file is `@azure/identity`'s one home). */
export type { TokenCredential };

/** An Azure AD access token and where it came from (for messages). */
export interface AzureToken {
  token: string;
  expires: Date;
  /** The credential, in words: `AZURE_CLIENT_ID app with AZURE_CLIENT_SECRET`, `the managed identity`. */
  source: string;
  /** AZURE_TENANT_ID, else the token's `tid` claim. */
  tenant?: string;
}

/** What {@link azureToken} needs: the helper context, the extra CAs and a deadline. */
export interface AzureTokenInputs {
  ctx: Pick<HelperContext, 'env' | 'readFile' | 'redactor'>;
  trustedCas?: readonly string[];
  /** The whole exchange's deadline (30 s, as every built-in helper call). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The credential chosen from the environment. */
interface Chosen {
  credential: TokenCredential;
  source: string;
  managed: boolean;
}

const SP_VARS =
  'AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE';

/** An environment variable of the build, undefined when unset or empty (as the SDKs treat an empty one). */
function envOf(ctx: AzureTokenInputs['ctx'], name: string): string | undefined {
  const v = ctx.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** The SDK options every credential gets: authority, CAs, few retries (the caller's loop retries too). */
function sdkOptions(ctx: AzureTokenInputs['ctx'], cas: readonly string[] | undefined, seen: Seen) {
  const authority = envOf(ctx, 'AZURE_AUTHORITY_HOST');
  const ca = withRoots(cas);
  const options: ClientSecretCredentialOptions = {
    // A private authority (Azure Stack, a test fake) has no instance metadata at Microsoft's.
    ...(authority !== undefined ? { authorityHost: authority, disableInstanceDiscovery: true } : {}),
    ...(ca !== undefined ? { tlsOptions: { ca } } : {}),
    retryOptions: { maxRetries: 1 },
    // MSAL reports a refusal without its HTTP status: the status is read here, for the message.
    additionalPolicies: [
      {
        position: 'perRetry',
        policy: {
          name: 'kilnStatus',
          sendRequest: async (req, next) => {
            seen.status = undefined;
            const res = await next(req);
            seen.status = res.status;
            return res;
          },
        },
      },
    ],
  };
  return options;
}

/** What the SDK hides: the last HTTP status it got, and a failure of Kiln's own code it called back. */
interface Seen {
  status?: number;
  failure?: CloudError;
}

/** The credential the environment names (see the module comment). */
function choose(i: AzureTokenInputs, seen: Seen): Chosen {
  const { ctx } = i;
  const get = (name: string): string | undefined => envOf(ctx, name);
  const options = sdkOptions(ctx, i.trustedCas, seen);
  const secret = get('AZURE_CLIENT_SECRET');
  const certPath = get('AZURE_CLIENT_CERTIFICATE_PATH');
  const tokenFile = get('AZURE_FEDERATED_TOKEN_FILE');
  const clientId = get('AZURE_CLIENT_ID');
  if (secret === undefined && certPath === undefined && tokenFile === undefined) {
    const mi: ManagedIdentityCredentialClientIdOptions & { sendProbeRequest: boolean } = {
      ...(clientId !== undefined ? { clientId } : {}),
      ...(options.tlsOptions !== undefined ? { tlsOptions: options.tlsOptions } : {}),
      ...(options.additionalPolicies !== undefined ? { additionalPolicies: options.additionalPolicies } : {}),
      retryOptions: { maxRetries: 1 },
      // Off Azure, a 1 s probe of IMDS (an option the SDK reads, not in its types) says there is
      // no managed identity, instead of retries against an address nobody answers.
      sendProbeRequest: true,
    };
    const credential = new ManagedIdentityCredential(mi);
    return { credential, source: `the managed identity${clientId ? ` ${clientId}` : ''}`, managed: true };
  }
  const tenant = get('AZURE_TENANT_ID');
  if (tenant === undefined) throw new CloudError(`AZURE_TENANT_ID is not set (Azure reads ${SP_VARS})`, 'setup');
  if (clientId === undefined) throw new CloudError(`AZURE_CLIENT_ID is not set (Azure reads ${SP_VARS})`, 'setup');
  if (secret !== undefined) {
    ctx.redactor.add(secret);
    return {
      credential: new ClientSecretCredential(tenant, clientId, secret, options),
      source: `AZURE_CLIENT_ID ${clientId} with AZURE_CLIENT_SECRET`,
      managed: false,
    };
  }
  if (certPath !== undefined) {
    const password = get('AZURE_CLIENT_CERTIFICATE_PASSWORD');
    ctx.redactor.add(password);
    const cert =
      password !== undefined
        ? { certificatePath: certPath, certificatePassword: password }
        : { certificatePath: certPath };
    return {
      credential: new ClientCertificateCredential(tenant, clientId, cert, options),
      source: `AZURE_CLIENT_ID ${clientId} with AZURE_CLIENT_CERTIFICATE_PATH ${certPath}`,
      managed: false,
    };
  }
  const file = tokenFile ?? '';
  // WorkloadIdentityCredential, with the file read through the context (and its token redacted).
  const assertion = async (): Promise<string> => {
    let jwt: string;
    try {
      jwt = (await ctx.readFile(file)).trim();
    } catch (err) {
      seen.failure = new CloudError(
        `reading AZURE_FEDERATED_TOKEN_FILE ${file}: ${errnoCode(err) ?? String(err)}`,
        'setup',
      );
      throw seen.failure;
    }
    ctx.redactor.add(jwt);
    return jwt;
  };
  return {
    credential: new ClientAssertionCredential(tenant, clientId, assertion, options),
    source: `AZURE_CLIENT_ID ${clientId} with AZURE_FEDERATED_TOKEN_FILE ${file}`,
    managed: false,
  };
}

/** The `code: description` of an MSAL refusal (`invalid_client: Error(s): … Description: AADSTS…`), first line only. */
function refusalDetail(message: string, redactor: Redactor): string {
  const code = /\b([a-z_]+): Error\(s\)/.exec(message)?.[1];
  const desc = /Description: (.*?)(?:\r?\n| - Correlation ID|$)/s.exec(message)?.[1]?.trim();
  return redactor.apply([code, desc].filter((s) => s !== undefined && s !== '').join(': ')).slice(0, 300);
}

/** The `tid` claim of a JWT access token, if it is one. */
function tenantOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      tid?: unknown;
    };
    return typeof claims.tid === 'string' ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An access token for `scope`. Throws a CloudError: `none` when nothing names a service principal
 * and no managed identity answers (the caller decides: anonymous or an error), `setup` for a
 * half-named service principal, `refused` when Azure AD rejects the credential, `network` when it
 * cannot be reached or the deadline passes.
 */
export async function azureToken(i: AzureTokenInputs, scope: string): Promise<AzureToken> {
  const seen: Seen = {};
  const { credential, source, managed } = choose(i, seen);
  const ms = i.timeoutMs ?? 30_000;
  const authority = envOf(i.ctx, 'AZURE_AUTHORITY_HOST') ?? 'https://login.microsoftonline.com/';
  const what = managed ? source : `Azure AD at ${authority}`;
  // The deadline stops the SDK's request and, should the SDK not heed it, the wait for it.
  const stop = new AbortController();
  const signal = i.signal !== undefined ? AbortSignal.any([i.signal, stop.signal]) : stop.signal;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(new CloudError(`timed out after ${formatTimeout(ms)} waiting for ${what}`, 'network'));
    }, ms);
  });
  try {
    const got = await Promise.race([credential.getToken(scope, { abortSignal: signal }), late]);
    if (got === null) throw new CloudError(`${what} answered without a token`, 'answer');
    i.ctx.redactor.add(got.token);
    const tenant = envOf(i.ctx, 'AZURE_TENANT_ID') ?? tenantOf(got.token);
    return { token: got.token, expires: new Date(got.expiresOnTimestamp), source, ...(tenant ? { tenant } : {}) };
  } catch (err) {
    if (err instanceof CloudError) throw err;
    if (i.signal?.aborted) throw i.signal.reason;
    const e = err as { name?: string; message?: string; cause?: unknown };
    const message = e.message ?? String(err);
    // Unavailable: no endpoint answered. An endpoint that answered 4xx refused the identity (below).
    const answered = seen.status !== undefined && seen.status >= 400;
    if (managed && e.name === 'CredentialUnavailableError' && !answered)
      throw new CloudError(
        `no Azure credentials: none of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE is set, and ${source} is not available (${i.ctx.redactor.apply(message.split('\n')[0] ?? '').slice(0, 200)})`,
        'none',
      );
    if (seen.failure !== undefined) throw seen.failure;
    const s = seen.status;
    if (s !== undefined && s >= 400 && s < 500)
      throw new CloudError(
        `Azure AD rejected the credentials of ${source} (${s} ${refusalDetail(message, i.ctx.redactor)})`,
        'refused',
        s,
      );
    if (s !== undefined && s >= 500) throw new CloudError(`${what} answered ${s}`, 'answer', s);
    throw new CloudError(
      `could not reach ${what}: ${i.ctx.redactor.apply(message.split('\n')[0] ?? '').slice(0, 200)}`,
      'network',
    );
  } finally {
    clearTimeout(timer);
  }
}
