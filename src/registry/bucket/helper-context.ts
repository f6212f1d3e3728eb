/**
 * A {@link HelperContext} for the bucket contexts (issue 14), so that GCS and Azure find their
 * credentials with the built-in credential helpers' code (cloud/gcp.ts, cloud/azure.ts): Google's
 * application default credentials and Azure AD, every secret learnt kept in the build's
 * `redactor` (S3 uses the AWS SDK's chain: bucket/s3.ts). The same deadlines as those helpers:
 * 30 s for a cloud API, 5 s for a link-local metadata service.
 */
import { readFile } from 'node:fs/promises';
import type { HelperContext } from '../cloud/context.js';
import { redactingFetch, undiciCloudFetch } from '../cloud/http.js';
import type { Redactor } from '../redact.js';

/** The inputs of {@link bucketHelperContext}. */
export interface BucketCredentialInputs {
  env: Record<string, string | undefined>;
  homeDir: string;
  /** CA certificates (PEM) trusted besides Node's roots: the build's SSL_CERT_DIR files. */
  trustedCas?: readonly string[];
  redactor: Redactor;
  now?: () => Date;
}

/** The context the cloud credential code runs in for one bucket context. */
export function bucketHelperContext(i: BucketCredentialInputs): HelperContext {
  return {
    env: i.env,
    homeDir: i.homeDir,
    readFile: (p) => readFile(p, 'utf8'),
    fetch: redactingFetch(undiciCloudFetch(30_000, i.trustedCas), i.redactor),
    metadataFetch: redactingFetch(undiciCloudFetch(5_000, i.trustedCas), i.redactor),
    now: i.now ?? (() => new Date()),
    redactor: i.redactor,
  };
}
