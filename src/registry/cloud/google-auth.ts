/**
 * A Google OAuth2 access token from the application default credentials, through Google's own
 * google-auth-library (issue 14: "Google's documented JSON API with google-auth-library"). The
 * one path for `gs://` contexts (bucket/gcs.ts, as Kaniko's pkg/buildcontext/gcs.go uses the
 * storage client's ADC) and the built-in `gcr`/`gcloud` helpers (gcp.ts, as docker-credential-gcr).
 *
 * ADC's order: the file GOOGLE_APPLICATION_CREDENTIALS names, else gcloud's
 * `application_default_credentials.json` (under CLOUDSDK_CONFIG, else ~/.config/gcloud), else the
 * metadata server. Kiln finds the file from the build's environment and home directory and hands
 * its JSON to GoogleAuth, which knows every type: service_account, authorized_user,
 * external_account (workload identity federation: a file-, URL-, executable- or AWS-sourced
 * subject token exchanged at STS), external_account_authorized_user, impersonated_service_account.
 * The library's HTTP goes through one Gaxios whose fetch is undici with the build's extra CAs, a
 * deadline per request and few retries (no proxy, as for the rest of Kiln's HTTP). What the
 * library can only read from process.env it reads there: gcp-metadata's GCE_METADATA_HOST /
 * GCE_METADATA_IP (Kiln checks the build's env for them too), whose plain-HTTP requests use its
 * own fetch under {@link within}'s deadline, and GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES.
 */
import { join } from 'node:path';
import { Compute, gaxios, GoogleAuth, type AuthClient } from 'google-auth-library';
import { Agent, fetch as undiciFetch } from 'undici';
import { errnoCode } from '../../errors.js';
import { formatTimeout } from '../network-error.js';
import type { Redactor } from '../redact.js';
import { describeGoogleFailure } from './google-errors.js';
import { CloudError } from './http.js';
import { withRoots } from '../trust.js';

/** The inputs of {@link googleAccessToken}. */
export interface GoogleAuthInputs {
  env: Record<string, string | undefined>;
  homeDir: string;
  /** Reads a UTF-8 file; rejects with ENOENT when it is missing. */
  readFile: (path: string) => Promise<string>;
  /** The OAuth2 scope asked for. */
  scope: string;
  /** Every secret learnt goes in. */
  redactor: Redactor;
  /** CA certificates (PEM) trusted besides Node's roots: the build's SSL_CERT_DIR files. */
  trustedCas?: readonly string[];
  /** Deadline of each request to Google's token endpoints. Default 30 s. */
  timeoutMs?: number;
  /** Deadline of the metadata server's detection and answer, which are fast or never. Default 5 s. */
  metadataTimeoutMs?: number;
  signal?: AbortSignal;
  /** The fetch every request of the library goes through; tests inject a fake. Default: undici. */
  fetch?: typeof globalThis.fetch;
}

/** An access token, when it expires, and where it came from (for messages). */
export interface GoogleToken {
  token: string;
  expires?: Date;
  source: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** The credentials file ADC reads; undefined when the user named none and gcloud's does not exist. */
async function adcFile(i: GoogleAuthInputs): Promise<{ path: string; text: string } | undefined> {
  const named = nonEmpty(i.env.GOOGLE_APPLICATION_CREDENTIALS);
  const gcloud = nonEmpty(i.env.CLOUDSDK_CONFIG) ?? join(i.homeDir, '.config', 'gcloud');
  const path = named ?? join(gcloud, 'application_default_credentials.json');
  try {
    return { path, text: await i.readFile(path) };
  } catch (err) {
    const code = errnoCode(err);
    if (named === undefined && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    const what = named !== undefined ? `GOOGLE_APPLICATION_CREDENTIALS ${path}` : path;
    throw new CloudError(`reading ${what}: ${code ?? String(err)}`, 'setup');
  }
}

/** The secrets a credentials file holds, for the redactor: keys, client secrets, refresh and subject tokens. */
async function secretsOf(json: Record<string, unknown>, i: GoogleAuthInputs): Promise<void> {
  for (const field of ['private_key', 'client_secret', 'refresh_token']) {
    const v = json[field];
    if (typeof v === 'string') i.redactor.add(v);
  }
  const source = json.credential_source as { file?: unknown } | undefined;
  if (typeof source?.file === 'string')
    await i.readFile(source.file).then(
      (t) => i.redactor.add(t.trim()),
      () => undefined, // The library says what is wrong with it.
    );
  if (typeof json.source_credentials === 'object' && json.source_credentials !== null)
    await secretsOf(json.source_credentials as Record<string, unknown>, i);
}

/**
 * One Gaxios for every request the library makes: undici's fetch with the build's CAs, a
 * deadline per request, and at most two retries of a busy or unreachable endpoint (the bucket
 * context's own retry loop is the outer one: the two must not multiply into minutes).
 */
function transporter(i: GoogleAuthInputs, timeoutMs: number): { gaxios: gaxios.Gaxios; close(): void } {
  let agent: Agent | undefined;
  let fetch = i.fetch;
  if (fetch === undefined) {
    const ca = withRoots(i.trustedCas);
    const dispatcher = new Agent({
      connect: { timeout: timeoutMs, ...(ca ? { ca } : {}) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    agent = dispatcher;
    // undici's fetch takes the dispatcher that carries the CAs; the DOM and undici types differ only in name.
    fetch = ((url: string | URL, init?: object) =>
      undiciFetch(url, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
  }
  const g = new gaxios.Gaxios({
    fetchImplementation: fetch,
    timeout: timeoutMs,
    ...(i.signal ? { signal: i.signal } : {}),
    retryConfig: { retry: 2, noResponseRetries: 1, retryDelay: 250 },
  });
  return { gaxios: g, close: () => void agent?.close().catch(() => undefined) };
}

/**
 * google-auth-library 10 leaves the STS exchange of an external account (and both clients of an
 * impersonated one) on a Gaxios of its own, i.e. global fetch: no extra CA, no deadline. They are
 * given Kiln's; `gcp.test.ts` proves the STS request goes through it.
 */
function adopt(client: AuthClient, g: gaxios.Gaxios): void {
  client.transporter = g;
  const inner = client as unknown as { stsCredential?: { transporter?: unknown }; sourceClient?: AuthClient };
  if (inner.stsCredential !== undefined) inner.stsCredential.transporter = g;
  if (inner.sourceClient !== undefined) adopt(inner.sourceClient, g);
}

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/**
 * The client options that make the library honour the file's `token_uri`, as Go's and Python's
 * libraries (and so Kaniko) do: an authorized_user's refresh goes to that endpoint; a service
 * account's JWT grant, which google-auth-library 10 always posts to Google's URL with that
 * audience, gets the key's as audience and is sent there by a request interceptor.
 */
function tokenUriOptions(json: Record<string, unknown>, g: gaxios.Gaxios): object {
  const uri = json.token_uri;
  if (typeof uri !== 'string' || uri === GOOGLE_TOKEN_URL) return {};
  if (json.type === 'authorized_user') return { endpoints: { oauth2TokenUrl: uri } };
  if (json.type !== 'service_account') return {};
  g.interceptors.request.add({
    resolved: async (config) => {
      if (config.url.toString() === GOOGLE_TOKEN_URL) config.url = new URL(uri);
      return config;
    },
  });
  return { additionalClaims: { aud: uri } };
}

/** Rejects after `ms` with a timeout naming `what`, unless `p` settles first. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CloudError(`timed out after ${formatTimeout(ms)} waiting for ${what}`, 'network')),
      ms,
    );
  });
  p.catch(() => undefined); // Settles after the deadline unobserved.
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

let detected: Promise<boolean> | undefined;

/**
 * ADC's own detection of Google Cloud (GoogleAuth's: the BIOS or serverless environment, else a
 * ping of the metadata server), once per process. Off Google Cloud, gcp-metadata reports the
 * failed ping with `process.emitWarning`, which Node prints on standard error: Kiln's standard
 * error is its logger's (ARCHITECTURE.md §1), and "not on Google Cloud" is the common answer, not
 * a warning, so that warning type alone is held back while the detection runs.
 */
function onGoogleCloud(): Promise<boolean> {
  if (detected !== undefined) return detected;
  const emit = process.emitWarning.bind(process);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, never called here
  const before = process.emitWarning;
  const quiet = (warning: string | Error, ...rest: unknown[]): void => {
    const kind = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
    if (kind !== 'MetadataLookupWarning') Reflect.apply(emit, process, [warning, ...rest]);
  };
  process.emitWarning = quiet;
  detected = new GoogleAuth()._checkIsGCE().finally(() => {
    if (process.emitWarning === quiet) process.emitWarning = before;
  });
  return detected;
}

/** The token of `client` and when it expires. */
async function tokenOf(client: AuthClient, i: GoogleAuthInputs, source: string): Promise<GoogleToken> {
  const { token } = await client.getAccessToken();
  if (token === null || token === undefined || token === '')
    throw new CloudError(`Google issued no access token for ${source}`, 'answer');
  i.redactor.add(token);
  const expiry = client.credentials.expiry_date;
  return { token, source, ...(typeof expiry === 'number' ? { expires: new Date(expiry) } : {}) };
}

/**
 * An access token for `i.scope` from the application default credentials; a {@link CloudError}
 * (redacted) saying why not — of kind `none` when there are no Google credentials at all (off
 * Google Cloud, no file), which the helpers answer as anonymous.
 */
export async function googleAccessToken(i: GoogleAuthInputs): Promise<GoogleToken> {
  const file = await adcFile(i);
  const timeoutMs = file !== undefined ? (i.timeoutMs ?? 30_000) : (i.metadataTimeoutMs ?? 5_000);
  const t = transporter(i, timeoutMs);
  let source = file?.path ?? 'the application default credentials';
  try {
    if (file !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(file.text);
      } catch {
        throw new CloudError(`${file.path} is not valid JSON`, 'setup');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new CloudError(`${file.path} is not a JSON object`, 'setup');
      const json = parsed as Record<string, unknown>;
      source = `${file.path} (${String(json.type)})`;
      await secretsOf(json, i);
      const clientOptions = { transporter: t.gaxios, ...tokenUriOptions(json, t.gaxios) };
      const auth = new GoogleAuth({ credentials: json, scopes: [i.scope], clientOptions });
      const client = await auth.getClient();
      adopt(client, t.gaxios);
      return await tokenOf(client, i, source);
    }
    const host = nonEmpty(i.env.GCE_METADATA_HOST) ?? nonEmpty(i.env.GCE_METADATA_IP);
    const base = host === undefined ? 'http://169.254.169.254' : host.includes('://') ? host : `http://${host}`;
    source = `the GCE metadata server at ${base}`;
    const what = `${source} (no GOOGLE_APPLICATION_CREDENTIALS set)`;
    const ms = i.metadataTimeoutMs ?? 5_000;
    // A metadata server the user named is used (as METADATA_SERVER_DETECTION=assume-present);
    // otherwise ADC's own detection decides whether this is Google Cloud at all. Off it, with no
    // file either, there are no credentials: anonymous, as docker-credential-gcr answers
    // "credentials not found", so public images (gcr.io/distroless…) still pull.
    const detection = nonEmpty(i.env.METADATA_SERVER_DETECTION)?.trim().toLowerCase();
    const onGoogle = host !== undefined || (detection !== 'none' && (await within(onGoogleCloud(), ms, what)));
    if (!onGoogle)
      throw new CloudError(
        'no Google credentials found (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud credentials file, not on Google Cloud)',
        'none',
      );
    const compute = new Compute({ scopes: [i.scope], transporter: t.gaxios });
    return await within(tokenOf(compute, i, source), ms, what);
  } catch (err) {
    if (err instanceof CloudError) throw new CloudError(i.redactor.apply(err.message), err.kind, err.status);
    if (i.signal?.aborted) throw err;
    throw describeGoogleFailure(err, source, i.redactor, timeoutMs);
  } finally {
    t.close();
  }
}
