/**
 * Kiln's own `ecr-login`, `gcr`, `gcloud` and `acr-env` credential helpers, the four Kaniko's
 * image ships as programs: config.json may name them, and a Kiln image or CI runner has no
 * `docker-credential-*` programs. credentials.ts loads this module (with `import()`, so a build
 * that names none of them never runs it) only when no program of that name is on PATH.
 *
 * One {@link BuiltinHelpers} per build (per credential provider): it caches each registry's
 * credential until shortly before the cloud said it expires, and keeps every secret it learns
 * in its redactor, so that no message it makes can show one.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { RegistryError } from '../../errors.js';
import { Redactor } from '../redact.js';
import type { Credential } from '../types.js';
import { lazyAwsChain } from './aws-chain.js';
import type { AwsCredentialProvider } from './aws-sigv4.js';
import { acrCredential, isAcrRegistry } from './azure.js';
import type { HelperContext, Issued } from './context.js';
import { ecrCredential } from './ecr.js';
import { googleCredential, isGoogleRegistry } from './gcp.js';
import type { GoogleAuthInputs } from './google-auth.js';
import { CloudError, redactingFetch, undiciCloudFetch, type CloudFetch } from './http.js';

/** Inputs of {@link BuiltinHelpers}; all but env and homeDir are injectable for tests. */
export interface BuiltinHelperOptions {
  env: Record<string, string | undefined>;
  homeDir: string;
  readFile?: (path: string) => Promise<string>;
  fetch?: CloudFetch;
  /** CA certificates (PEM) trusted besides Node's roots: the build's SSL_CERT_DIR files. */
  trustedCas?: readonly string[];
  /** Default: 30 s for a cloud's API. */
  timeoutMs?: number;
  /** Default: 5 s for a link-local metadata service (GCE, ECS), which answers fast when it exists. */
  metadataTimeoutMs?: number;
  now?: () => Date;
  /** Default: the AWS SDK's default credential chain (aws-sdk-chain.ts), loaded when ecr-login first needs it. */
  awsCredentials?: AwsCredentialProvider;
  /** The fetch google-auth-library's requests go through (gcr, gcloud); tests inject a fake. */
  googleFetch?: typeof globalThis.fetch;
}

/** A cached credential is asked for again this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;

const HINTS: Record<string, Record<Exclude<CloudError['kind'], 'none'>, string>> = {
  'ecr-login': {
    refused: 'check the AWS credentials of the build, and that they may call ecr:GetAuthorizationToken',
    network: 'check that the ECR API (or AWS_ENDPOINT_URL_ECR) and STS are reachable from the build',
    answer: 'the ECR API answered something Kiln cannot use; check AWS_ENDPOINT_URL_ECR',
    setup:
      'give the build AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (keys, role_arn, credential_process, SSO), or IRSA',
  },
  gcr: {
    refused: 'check GOOGLE_APPLICATION_CREDENTIALS, or the service account of the node or workload',
    network: 'check that the GCE metadata server (GCE_METADATA_HOST) or Google OAuth2 is reachable from the build',
    answer: 'Google answered something Kiln cannot use',
    setup:
      'point GOOGLE_APPLICATION_CREDENTIALS at a credentials file (service account key, authorized_user, external_account), or run on GCE/GKE',
  },
  'acr-env': {
    refused: 'check AZURE_TENANT_ID, AZURE_CLIENT_ID and its secret or federated token, and its role on the registry',
    network: 'check that Azure AD (AZURE_AUTHORITY_HOST) and the registry are reachable from the build',
    answer: 'Azure answered something Kiln cannot use',
    setup: 'set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE)',
  },
};

/** The built-in helpers of one build. */
export class BuiltinHelpers {
  private readonly ctx: HelperContext;
  private readonly google: Omit<GoogleAuthInputs, 'scope'>;
  private readonly cache = new Map<string, Promise<Issued | undefined>>();
  private readonly expiry = new Map<string, Date | undefined>();

  constructor(opts: BuiltinHelperOptions) {
    const redactor = new Redactor();
    const ms = opts.timeoutMs ?? 30_000;
    this.ctx = {
      env: opts.env,
      homeDir: opts.homeDir,
      readFile: opts.readFile ?? ((p) => fsReadFile(p, 'utf8')),
      fetch: redactingFetch(opts.fetch ?? undiciCloudFetch(opts.timeoutMs ?? 30_000, opts.trustedCas), redactor),
      metadataFetch: redactingFetch(
        opts.fetch ?? undiciCloudFetch(opts.metadataTimeoutMs ?? 5_000, opts.trustedCas),
        redactor,
      ),
      now: opts.now ?? (() => new Date()),
      redactor,
      awsCredentials:
        opts.awsCredentials ??
        lazyAwsChain({
          ...opts,
          timeouts: { connectMs: ms, headersMs: ms, bodyMs: ms },
          trustedCas: opts.trustedCas ?? [],
        }),
      ...(opts.trustedCas !== undefined ? { trustedCas: opts.trustedCas } : {}),
    };
    this.google = {
      env: opts.env,
      homeDir: opts.homeDir,
      readFile: this.ctx.readFile,
      redactor,
      ...(opts.trustedCas !== undefined ? { trustedCas: opts.trustedCas } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.metadataTimeoutMs !== undefined ? { metadataTimeoutMs: opts.metadataTimeoutMs } : {}),
      ...(opts.googleFetch !== undefined ? { fetch: opts.googleFetch } : {}),
    };
  }

  /**
   * The credential helper `name` gives for `registry`; undefined when it serves no such host
   * (anonymous, as "credentials not found"). `explicit`: config.json's credHelpers names this
   * registry for this helper (rather than credsStore naming it for every registry).
   */
  async get(name: string, registry: string, explicit: boolean): Promise<Credential | undefined> {
    const key = `${name}\n${registry}`;
    const expires = this.expiry.get(key);
    if (expires !== undefined && expires.getTime() - RENEW_BEFORE_MS < this.ctx.now().getTime()) this.cache.delete(key);
    let pending = this.cache.get(key);
    if (pending === undefined) {
      pending = this.issue(name, registry, explicit);
      this.cache.set(key, pending);
      pending.then(
        (issued) => this.expiry.set(key, issued?.expires),
        () => this.cache.delete(key),
      );
    }
    try {
      return (await pending)?.credential;
    } catch (err) {
      if (!(err instanceof CloudError)) throw err;
      if (err.kind === 'none') return undefined;
      const hints = HINTS[name === 'gcloud' ? 'gcr' : name];
      throw new RegistryError(
        `reading credentials for ${registry} from ${name} (built into Kiln; no docker-credential-${name} on PATH): ${this.ctx.redactor.apply(err.message)}`,
        { registry },
        hints !== undefined ? { hint: hints[err.kind] } : undefined,
      );
    }
  }

  private async issue(name: string, registry: string, explicit: boolean): Promise<Issued | undefined> {
    switch (name) {
      case 'ecr-login':
        return ecrCredential(this.ctx, registry, explicit);
      case 'gcr':
      case 'gcloud':
        return explicit || isGoogleRegistry(registry) ? googleCredential(this.google) : undefined;
      case 'acr-env':
        return explicit || isAcrRegistry(registry) ? acrCredential(this.ctx, registry) : undefined;
      default:
        return undefined;
    }
  }
}
