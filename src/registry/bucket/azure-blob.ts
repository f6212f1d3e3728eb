/**
 * An Azure blob as a build context (`https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`, issue
 * 14), read with `@azure/storage-blob` as Kaniko reads it (pkg/buildcontext/azureblob.go: the
 * account from the host, the key from `AZURE_STORAGE_ACCESS_KEY`, a Shared Key credential,
 * `BlobClient.download()`), and streamed.
 *
 * `AZURE_STORAGE_CONNECTION_STRING` — the Azure SDKs' and CLI's variable — is read too: when it is
 * for the URL's account (or `UseDevelopmentStorage=true`, for devstoreaccount1), its `BlobEndpoint`
 * replaces `https://ACCOUNT.blob.core.windows.net`, which is how Azurite
 * (`http://127.0.0.1:10000/devstoreaccount1`) or a sovereign cloud is reached, and its `AccountKey`
 * (or `SharedAccessSignature`) is the credential when AZURE_STORAGE_ACCESS_KEY is not set. A SAS
 * in the context URL itself is used when there is no key. Without any, an Azure AD token from
 * `@azure/identity` (cloud/azure-identity.ts: a service principal, workload identity, managed
 * identity), and without one the read is anonymous (a public container).
 *
 * The SDK tries once (`maxTries: 1`, `maxRetryRequests: 0`): the context fetcher
 * (executor/context-object.ts) starts again on an emptied directory after a transient failure.
 * `--network-timeout` bounds the wait for the answer (`tryTimeoutInMs`) and each silence of the
 * body; the build's extra CAs reach the SDK's HTTPS agent.
 */
import { readFile } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import {
  AnonymousCredential,
  BlobClient,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { azureToken, type TokenCredential } from '../cloud/azure-identity.js';
import { CloudError } from '../cloud/http.js';
import { classifyNetworkError, DEFAULT_TIMEOUTS, formatTimeout } from '../network-error.js';
import type { Redactor } from '../redact.js';
import type { NetworkTimeouts } from '../types.js';
import type { BucketCredentialInputs } from './helper-context.js';
import { BucketFailure, ObjectGetFailed, type ObjectGetOptions } from './get.js';
import { withRoots } from '../trust.js';

/** Azurite's (and the retired storage emulator's) well-known account, for `UseDevelopmentStorage=true`. */
const DEV_ACCOUNT = 'devstoreaccount1';
// Published in Microsoft's Azurite documentation; not a secret.
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** Where a blob is read and with which key or SAS. */
export interface AzureTarget {
  /** The blob's URL at the endpoint actually used. */
  url: URL;
  account: string;
  key?: string;
  /** A shared access signature (the query string, without `?`) from the connection string. */
  sas?: string;
  /** Where the key or SAS came from, for messages. */
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
  let sas: string | undefined;
  let keySource: string | undefined;
  const cs = env.AZURE_STORAGE_CONNECTION_STRING;
  if (cs !== undefined && cs !== '') {
    const p = parseConnectionString(cs);
    const dev = p.UseDevelopmentStorage?.toLowerCase() === 'true';
    // A SAS connection string names no account: its BlobEndpoint's host (ACCOUNT.blob.…) does.
    const name = dev ? DEV_ACCOUNT : (p.AccountName ?? /^https?:\/\/([^./]+)\.blob\./i.exec(p.BlobEndpoint ?? '')?.[1]);
    if (name === account) {
      const suffix = p.EndpointSuffix ?? 'core.windows.net';
      const protocol = p.DefaultEndpointsProtocol ?? 'https';
      endpoint =
        p.BlobEndpoint ?? (dev ? `http://127.0.0.1:10000/${DEV_ACCOUNT}` : `${protocol}://${account}.blob.${suffix}`);
      key = dev ? DEV_KEY : p.AccountKey;
      sas = p.SharedAccessSignature?.replace(/^\?/, '');
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
  if (key !== undefined) return { url, account, key, keySource: keySource ?? '' };
  return { url, account, ...(sas !== undefined && sas !== '' ? { sas, keySource: keySource ?? '' } : {}) };
}

/** A refusal of Azure Storage in words; `using` names the credential sent (undefined: none). */
function refusal(err: ObjectGetFailed, t: AzureTarget, container: string, blob: string, using?: string): BucketFailure {
  const { status, code, detail } = err.extra;
  const said = `(${err.message}${detail ? `: ${detail}` : ''})`;
  // Azure answers an anonymous read of a private container as if the blob did not exist.
  if (using === undefined && status !== undefined && status >= 400 && status < 500)
    return new BucketFailure(
      `Azure storage account ${t.account} refused an anonymous read of ${container}/${blob} ${said}`,
      'no AZURE_STORAGE_ACCESS_KEY (nor AZURE_CLIENT_ID with a secret or federated token, nor a managed identity) is set',
    );
  if (code === 'ContainerNotFound')
    return new BucketFailure(`Azure storage account ${t.account} has no container ${container} ${said}`);
  if (status === 404) return new BucketFailure(`Azure container ${container} has no blob ${blob} ${said}`);
  if (status === 401 || status === 403)
    return new BucketFailure(
      `Azure storage account ${t.account} denied access to container ${container} with ${using} ${said}`,
      t.key !== undefined
        ? 'check that AZURE_STORAGE_ACCESS_KEY is a key of the storage account'
        : t.sas !== undefined
          ? 'check that the shared access signature is valid for the blob and allows reading'
          : 'check that the identity has a data role on the container (Storage Blob Data Reader)',
    );
  return new BucketFailure(`Azure storage account ${t.account} answered ${said}`);
}

/** The credential of the read, in the SDK's terms and in words (undefined: anonymous). */
async function credentialOf(
  t: AzureTarget,
  inputs: BucketCredentialInputs,
  signal: AbortSignal,
): Promise<{ credential: StorageSharedKeyCredential | AnonymousCredential | TokenCredential; using?: string }> {
  if (t.key !== undefined)
    return { credential: new StorageSharedKeyCredential(t.account, t.key), using: `the key from ${t.keySource}` };
  if (t.sas !== undefined) return { credential: new AnonymousCredential(), using: `the SAS from ${t.keySource}` };
  const ctx = { env: inputs.env, readFile: (p: string) => readFile(p, 'utf8'), redactor: inputs.redactor };
  try {
    const cas = inputs.trustedCas;
    const aad = await azureToken({ ctx, signal, ...(cas ? { trustedCas: cas } : {}) }, STORAGE_SCOPE);
    // The token is fetched once, here, under the deadline; the pipeline gets it as it is.
    const token = { token: aad.token, expiresOnTimestamp: aad.expires.getTime() };
    return { credential: { getToken: async () => token }, using: `the Azure AD token of ${aad.source}` };
  } catch (err) {
    if (!(err instanceof CloudError)) throw err;
    if (err.kind === 'none') return { credential: new AnonymousCredential() };
    const hint =
      'check AZURE_TENANT_ID, AZURE_CLIENT_ID and its secret, certificate or federated token, or the managed identity';
    throw new BucketFailure(err.message, hint, { cause: err });
  }
}

/** The SDK's pipeline options: one try, the build's CAs. */
function pipelineOptions(trustedCas: readonly string[] | undefined, userAgent?: string) {
  // `tlsOptions` is core-rest-pipeline's (the Storage client hands its options on to it): not in
  // StoragePipelineOptions' type, so typed here. An https.Agent would break an http endpoint (Azurite).
  // No `tryTimeoutInMs`: it is the service's own timeout (`?timeout=`), which would cut a large
  // download; the client's deadline is openAzureBlob's.
  const ca = withRoots(trustedCas);
  const options: StoragePipelineOptions & { tlsOptions?: { ca: string[] } } = {
    retryOptions: { maxTries: 1 },
    ...(userAgent !== undefined ? { userAgentOptions: { userAgentPrefix: userAgent } } : {}),
    ...(ca !== undefined ? { tlsOptions: { ca } } : {}),
  };
  return options;
}

/**
 * The SDK's body as handed to the caller: an error of the download becomes an ObjectGetFailed
 * (`downloading: …`, which the fetcher retries), and a body silent for `bodyMs` while the reader
 * wants more fails the same way.
 */
function watched(body: Readable, bodyMs: number, signal: AbortSignal, redactor: Redactor): Readable {
  const out = new PassThrough();
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => clearTimeout(timer);
  const fail = (err: Error, reason: string): void => {
    stop();
    out.destroy(signal.aborted ? err : new ObjectGetFailed(`downloading: ${redactor.apply(reason)}`, { cause: err }));
  };
  const arm = (): void => {
    stop();
    timer = setTimeout(() => {
      const err = new Error(`no data for ${formatTimeout(bodyMs)}`);
      fail(err, err.message);
      body.destroy();
    }, bodyMs);
  };
  body.on('data', (chunk: Buffer) => {
    if (out.write(chunk)) return arm();
    // The reader is behind: a quiet server is not the server's fault until the reader asks again.
    stop();
    body.pause();
    out.once('drain', () => {
      arm();
      body.resume();
    });
  });
  body.once('end', () => {
    stop();
    out.end();
  });
  body.on('error', (err: Error) => {
    // The SDK reports a cut connection as an AbortError or as "received less data than required".
    const cut = err.name === 'AbortError' || /received less data than required/.test(err.message);
    fail(
      err,
      cut ? 'the connection closed before the whole blob arrived' : (classifyNetworkError(err)?.reason ?? err.message),
    );
  });
  out.once('close', () => {
    stop();
    body.destroy();
  });
  arm();
  return out;
}

/** A failure of the SDK's request as an ObjectGetFailed: the status and code of a refusal, else why it failed. */
function requestFailure(err: unknown, t: NetworkTimeouts, redactor: Redactor): ObjectGetFailed {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.statusCode === 'number') {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const detail = redactor.apply(message.split('\n')[0] ?? '').slice(0, 200);
    return new ObjectGetFailed(`${e.statusCode}${code ? ` ${code}` : ''}`, {
      status: e.statusCode,
      ...(code ? { code } : {}),
      ...(detail && detail !== code ? { detail } : {}),
      cause: err,
    });
  }
  // The deadline aborts the request.
  if (e.name === 'AbortError')
    return new ObjectGetFailed(`no response within ${formatTimeout(t.connectMs + t.headersMs)}`, { cause: err });
  return new ObjectGetFailed(redactor.apply(classifyNetworkError(err)?.reason ?? message), { cause: err });
}

/** A SAS in the context URL's query (`sv=…&sig=…`), if it holds one. */
function urlSas(url: URL | undefined): string | undefined {
  return url !== undefined && url.searchParams.has('sig') ? url.search.slice(1) : undefined;
}

/** Opens an Azure blob: its bytes as they arrive, or a {@link BucketFailure} saying why not. */
export async function openAzureBlob(
  blob: { account: string; container: string; blob: string; url?: URL },
  inputs: BucketCredentialInputs,
  get: Omit<ObjectGetOptions, 'redactor'>,
): Promise<Readable> {
  const target = azureTarget(blob.account, blob.container, blob.blob, inputs.env);
  const sas = target.key === undefined ? urlSas(blob.url) : undefined;
  const t: AzureTarget = sas !== undefined ? { ...target, sas, keySource: 'the context URL' } : target;
  inputs.redactor.add(t.key);
  if (t.sas !== undefined) inputs.redactor.add(new URLSearchParams(t.sas).get('sig') ?? undefined);
  const timeouts = get.timeouts ?? DEFAULT_TIMEOUTS;
  const { credential, using } = await credentialOf(t, inputs, get.signal);
  const url = t.sas !== undefined ? `${t.url.href}?${t.sas}` : t.url.href;
  const client = new BlobClient(url, credential, pipelineOptions(get.trustedCas, get.userAgent));
  // The deadline for the answer (connect and headers); the body then has its idle timeout.
  const late = new AbortController();
  const timer = setTimeout(() => late.abort(), timeouts.connectMs + timeouts.headersMs);
  let body: Readable | undefined;
  try {
    const abortSignal = AbortSignal.any([get.signal, late.signal]);
    const res = await client.download(0, undefined, { abortSignal, maxRetryRequests: 0 });
    body = res.readableStreamBody as Readable | undefined;
  } catch (err) {
    if (get.signal.aborted) throw get.signal.reason;
    const failed = requestFailure(err, timeouts, inputs.redactor);
    if (failed.extra.status === undefined)
      throw new BucketFailure(`Azure Blob Storage at ${t.url.origin}: ${failed.message}`, undefined, { cause: failed });
    const f = refusal(failed, t, blob.container, blob.blob, using);
    throw new BucketFailure(f.message, f.hint, { cause: failed });
  } finally {
    clearTimeout(timer);
  }
  if (body === undefined) throw new BucketFailure(`Azure Blob Storage at ${t.url.origin} answered without a body`);
  return watched(body, timeouts.bodyMs, get.signal, inputs.redactor);
}
