/**
 * What a built-in credential helper works with: the build's environment and home directory, a
 * file reader and an HTTP fetch (both injectable), the clock, and the redactor every secret it
 * learns goes into. One per build, made by the credential provider (credentials.ts).
 */
import type { Redactor } from '../redact.js';
import type { Credential } from '../types.js';
import type { AwsCredentialProvider } from './aws-sigv4.js';
import type { CloudFetch } from './http.js';

/** The inputs of a built-in helper. */
export interface HelperContext {
  env: Record<string, string | undefined>;
  homeDir: string;
  /** Reads a UTF-8 file; rejects with ENOENT when it is missing. */
  readFile: (path: string) => Promise<string>;
  fetch: CloudFetch;
  /** Fetch for link-local metadata services (GCE, ECS), which answer fast or not at all: a shorter deadline. */
  metadataFetch: CloudFetch;
  now: () => Date;
  redactor: Redactor;
  /** AWS credentials for ecr-login: the AWS SDK's default chain, set by BuiltinHelpers (aws-chain.ts). */
  awsCredentials?: AwsCredentialProvider;
  /** CA certificates (PEM) trusted besides Node's roots, for a cloud SDK's own HTTPS requests. */
  trustedCas?: readonly string[];
}

/** An env var, undefined when unset or empty (as the SDKs treat an empty one). */
export function envVar(ctx: HelperContext, name: string): string | undefined {
  const v = ctx.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A credential a built-in helper obtained, and when it stops being valid (for the per-build cache). */
export interface Issued {
  credential: Credential;
  /** When the cloud said it expires; undefined when it did not say. */
  expires?: Date;
}
