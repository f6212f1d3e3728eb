/**
 * What the bucket contexts (S3, GCS, Azure Blob: issue 14) share: the inputs of the cloud
 * credential code and of the GET (the build's environment, `--network-timeout`, the build's
 * extra CAs), the object's bytes streamed into the unpacking as they arrive, and every failure
 * as one line naming the context — a store that refuses or cannot be reached is exit 4 (a
 * ContextError), a corrupt archive exit 5 — with every key, token and signature redacted.
 */
import type { Readable } from 'node:stream';
import { ContextError } from '../errors.js';
import {
  BucketFailure,
  ObjectGetFailed,
  readTrustedCas,
  Redactor,
  type BucketCredentialInputs,
} from '../registry/index.js';
import type { NetworkTimeouts } from '../registry/types.js';
import type { BuildEnv } from './build-env.js';
import { unpackContext } from './context-unpack.js';

/** What an opener gets: the credential inputs and the GET's options. */
export interface ObjectOpenInputs {
  inputs: BucketCredentialInputs;
  get: { signal: AbortSignal; timeouts?: NetworkTimeouts; trustedCas?: readonly string[]; userAgent: string };
}

/** Opens the object: resolves with its bytes, or rejects with a BucketFailure. */
export type ObjectOpener = (o: ObjectOpenInputs) => Promise<Readable>;

/** Fetches the archive `open` opens into `into`, the context directory named `display`. */
export async function fetchObjectContext(
  open: ObjectOpener,
  into: string,
  env: BuildEnv,
  display: string,
): Promise<void> {
  const trustedCas = readTrustedCas(
    { sslCertDir: env.env.SSL_CERT_DIR, nodeExtraCaCerts: env.env.NODE_EXTRA_CA_CERTS },
    env.logger,
  );
  const ms = env.options.networkTimeoutMs;
  const redactor = new Redactor();
  const o: ObjectOpenInputs = {
    inputs: { env: env.env, homeDir: env.homeDir, redactor, now: env.now, trustedCas },
    get: {
      signal: env.signal,
      userAgent: `kiln/${env.version}`,
      trustedCas,
      ...(ms !== undefined ? { timeouts: { connectMs: ms, headersMs: ms, bodyMs: ms } } : {}),
    },
  };
  let body: Readable | undefined;
  try {
    body = await open(o);
    await unpackContext(body, into, env, display);
  } catch (err) {
    // The archive reader reports whatever broke its stream; a network failure is not the archive's.
    const broken = body?.errored;
    const cause = broken instanceof ObjectGetFailed ? broken : err;
    if (cause instanceof BucketFailure || cause instanceof ObjectGetFailed)
      throw new ContextError(redactor.apply(`context ${display}: ${cause.message}`), display, {
        cause,
        ...(cause instanceof BucketFailure && cause.hint !== undefined ? { hint: cause.hint } : {}),
      });
    throw err;
  } finally {
    body?.destroy();
  }
}
