/**
 * An Azure blob as a build context (`https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`, issue
 * 14), as Kaniko reads it (pkg/buildcontext/azureblob.go: the account from the host, the key from
 * `AZURE_STORAGE_ACCESS_KEY`, a Shared Key credential). The GET is signed with Shared Key
 * (learn.microsoft.com "Authorize with Shared Key": HMAC-SHA256 of the canonical string under the
 * base64 account key) and streamed.
 *
 * `AZURE_STORAGE_CONNECTION_STRING` — the Azure SDKs' and CLI's variable — is read too: when it is
 * for the URL's account (or `UseDevelopmentStorage=true`, for devstoreaccount1), its `BlobEndpoint`
 * replaces `https://ACCOUNT.blob.core.windows.net`, which is how Azurite
 * (`http://127.0.0.1:10000/devstoreaccount1`) or a sovereign cloud is reached, and its `AccountKey`
 * is the key when AZURE_STORAGE_ACCESS_KEY is not set. Without any key, an Azure AD token of the
 * environment's service principal is sent (azure-aad.ts), and without one the GET is anonymous (a
 * public container).
 */
import { createHmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CloudError } from '../cloud/http.js';
import { storageAadToken } from './azure-aad.js';
import { bucketHelperContext, type BucketCredentialInputs } from './helper-context.js';
import { BucketFailure, getObject, ObjectGetFailed, type ObjectGetOptions } from './get.js';

/** The x-ms-version sent: one every Azure Storage service and Azurite accept. */
export const AZURE_STORAGE_VERSION = '2021-12-02';

/** Azurite's (and the retired storage emulator's) well-known account, for `UseDevelopmentStorage=true`. */
const DEV_ACCOUNT = 'devstoreaccount1';
// Published in Microsoft's Azurite documentation; not a secret.
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Where a blob is read and with which key. */
export interface AzureTarget {
  /** The blob's URL at the endpoint actually used. */
  url: URL;
  account: string;
  key?: string;
  /** Where the key came from, for messages. */
  keySource?: string;
}

/** The `Key=Value;…` pairs of a connection string (values may hold `=`, as base64 keys do). */
export function parseConnectionString(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The endpoint and key for a blob of `account`, from the environment. */
export function azureTarget(
  account: string,
  container: string,
  blob: string,
  env: Record<string, string | undefined>,
): AzureTarget {
  let endpoint = `https://${account}.blob.core.windows.net`;
  let key: string | undefined;
  let keySource: string | undefined;
  const cs = env.AZURE_STORAGE_CONNECTION_STRING;
  if (cs !== undefined && cs !== '') {
    const p = parseConnectionString(cs);
    const dev = p.UseDevelopmentStorage?.toLowerCase() === 'true';
    const name = dev ? DEV_ACCOUNT : p.AccountName;
    if (name === account) {
      const suffix = p.EndpointSuffix ?? 'core.windows.net';
      const protocol = p.DefaultEndpointsProtocol ?? 'https';
      endpoint =
        p.BlobEndpoint ?? (dev ? `http://127.0.0.1:10000/${DEV_ACCOUNT}` : `${protocol}://${account}.blob.${suffix}`);
      key = dev ? DEV_KEY : p.AccountKey;
      keySource = 'AZURE_STORAGE_CONNECTION_STRING';
    }
  }
  const accessKey = env.AZURE_STORAGE_ACCESS_KEY;
  if (accessKey !== undefined && accessKey !== '') {
    key = accessKey;
    keySource = 'AZURE_STORAGE_ACCESS_KEY';
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new BucketFailure('the BlobEndpoint of AZURE_STORAGE_CONNECTION_STRING is not a URL');
  }
  const path = [container, ...blob.split('/')].map(encodeURIComponent).join('/');
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  url.search = '';
  return { url, account, ...(key !== undefined ? { key, keySource: keySource ?? '' } : {}) };
}

/**
 * The headers of a Shared Key signed GET (version 2015-02-21 and later: an empty Content-Length
 * for no body). The canonicalized resource is `/ACCOUNT` and the path as sent, so an emulator's
 * path-style URL (`/devstoreaccount1/CONTAINER/BLOB`) signs as the Azure SDKs sign it.
 */
export function sharedKeyHeaders(t: AzureTarget & { key: string }, now: Date): Record<string, string> {
  const ms: Record<string, string> = { 'x-ms-date': now.toUTCString(), 'x-ms-version': AZURE_STORAGE_VERSION };
  const canonicalHeaders = Object.keys(ms)
    .sort()
    .map((k) => `${k}:${ms[k]}\n`)
    .join('');
  // VERB, then Content-Encoding … Range: eleven standard headers, all empty for a plain GET.
  const toSign = `GET\n${'\n'.repeat(11)}${canonicalHeaders}/${t.account}${t.url.pathname}`;
  const signature = createHmac('sha256', Buffer.from(t.key, 'base64')).update(toSign, 'utf8').digest('base64');
  return { ...ms, authorization: `SharedKey ${t.account}:${signature}` };
}

/** A refusal of Azure Storage in words; `using` names the credential sent (undefined: none). */
function refusal(err: ObjectGetFailed, t: AzureTarget, container: string, blob: string, using?: string): BucketFailure {
  const { status, code, detail } = err.extra;
  const said = `(${err.message}${detail ? `: ${detail}` : ''})`;
  // Azure answers an anonymous read of a private container as if the blob did not exist.
  if (using === undefined && status !== undefined && status >= 400 && status < 500)
    return new BucketFailure(
      `Azure storage account ${t.account} refused an anonymous read of ${container}/${blob} ${said}`,
      'no AZURE_STORAGE_ACCESS_KEY (nor AZURE_CLIENT_ID with a secret or federated token) is set',
    );
  if (code === 'ContainerNotFound')
    return new BucketFailure(`Azure storage account ${t.account} has no container ${container} ${said}`);
  if (status === 404) return new BucketFailure(`Azure container ${container} has no blob ${blob} ${said}`);
  if (status === 401 || status === 403)
    return new BucketFailure(
      `Azure storage account ${t.account} denied access to container ${container} with ${using} ${said}`,
      t.key !== undefined
        ? 'check that AZURE_STORAGE_ACCESS_KEY is a key of the storage account'
        : 'check that the service principal has a data role on the container (Storage Blob Data Reader)',
    );
  return new BucketFailure(`Azure storage account ${t.account} answered ${said}`);
}

/** The headers of the GET and the credential they carry: the account key, else an Azure AD token, else none. */
async function authHeaders(
  t: AzureTarget,
  inputs: BucketCredentialInputs,
): Promise<{ headers: Record<string, string>; using?: string }> {
  const now = (inputs.now ?? (() => new Date()))();
  if (t.key !== undefined) {
    const headers = sharedKeyHeaders({ ...t, key: t.key }, now);
    inputs.redactor.add(headers.authorization?.split(':').pop());
    return { headers, using: `the key from ${t.keySource}` };
  }
  let aad;
  try {
    aad = await storageAadToken(bucketHelperContext(inputs));
  } catch (err) {
    if (!(err instanceof CloudError)) throw err;
    throw new BucketFailure(err.message, 'check AZURE_TENANT_ID, AZURE_CLIENT_ID and its secret or federated token', {
      cause: err,
    });
  }
  const ms = { 'x-ms-date': now.toUTCString(), 'x-ms-version': AZURE_STORAGE_VERSION };
  if (aad === undefined) return { headers: ms };
  return { headers: { ...ms, authorization: `Bearer ${aad.token}` }, using: aad.source };
}

/** Opens an Azure blob: its bytes as they arrive, or a {@link BucketFailure} saying why not. */
export async function openAzureBlob(
  blob: { account: string; container: string; blob: string },
  inputs: BucketCredentialInputs,
  get: Omit<ObjectGetOptions, 'redactor'>,
): Promise<Readable> {
  const t = azureTarget(blob.account, blob.container, blob.blob, inputs.env);
  inputs.redactor.add(t.key);
  const { headers, using } = await authHeaders(t, inputs);
  try {
    return await getObject(t.url, headers, { ...get, redactor: inputs.redactor });
  } catch (err) {
    if (!(err instanceof ObjectGetFailed)) throw err;
    if (err.extra.status === undefined)
      throw new BucketFailure(`Azure Blob Storage at ${t.url.origin}: ${err.message}`, undefined, { cause: err });
    const f = refusal(err, t, blob.container, blob.blob, using);
    throw new BucketFailure(f.message, f.hint, { cause: err });
  }
}
