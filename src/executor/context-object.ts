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
  Redactor,
  RetryLater,
  type BucketCredentialInputs,
} from '../registry/index.js';
import type { NetworkTimeouts } from '../registry/types.js';
import { buildTrustedCas, type BuildEnv } from './build-env.js';
import { retryInEmptyDir, spool } from './context-spool.js';
import { unpackContext } from './context-tar.js';
import type { EntryListener } from './remote-context.js';

/** What an opener gets: the credential inputs and the GET's options. */
export interface ObjectOpenInputs {
  inputs: BucketCredentialInputs;
  get: { signal: AbortSignal; timeouts?: NetworkTimeouts; trustedCas?: readonly string[]; userAgent: string };
}

/** Opens the object: resolves with its bytes, or rejects with a BucketFailure. */
export type ObjectOpener = (o: ObjectOpenInputs) => Promise<Readable>;

/** Statuses a store answers when it is busy or briefly failing (S3's 503 SlowDown, GCS's 429). */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Whether another try may cure a failure: a busy store, or a download that broke after it began
 * (a reset, a stall). A refusal, or an endpoint that cannot be reached at all, is final at once.
 */
function transient(err: BucketFailure | ObjectGetFailed): boolean {
  const get = err instanceof ObjectGetFailed ? err : err.cause;
  if (!(get instanceof ObjectGetFailed)) return false;
  const status = get.extra.status;
  return status === undefined ? get.message.startsWith('downloading: ') : TRANSIENT_STATUS.has(status);
}

/**
 * Fetches the archive `open` opens into `into`, the context directory named `display`, trying
 * again on an emptied directory (with the registry client's backoff) after a transient failure,
 * as the cloud SDKs Kaniko uses retry.
 */
export async function fetchObjectContext(
  open: ObjectOpener,
  into: string,
  env: BuildEnv,
  display: string,
  onEntry?: EntryListener,
): Promise<void> {
  const trustedCas = buildTrustedCas(env);
  const ms = env.options.networkTimeoutMs;
  const redactor = new Redactor();
  const o: ObjectOpenInputs = {
    // The real clock (not env.now): a signature with a made-up date is refused.
    inputs: { env: env.env, homeDir: env.homeDir, redactor, trustedCas },
    get: {
      signal: env.signal,
      userAgent: `kiln/${env.version}`,
      trustedCas,
      ...(ms !== undefined ? { timeouts: { connectMs: ms, headersMs: ms, bodyMs: ms } } : {}),
    },
  };
  const attemptOnce = async (canRetry: boolean): Promise<void | RetryLater> => {
    let body: Readable | undefined;
    try {
      body = await open(o);
      await unpackContext(await spool(body, into), into, env, display, onEntry);
    } catch (err) {
      // The archive reader reports whatever broke its stream; a network failure is not the archive's.
      const broken = body?.errored;
      const cause = broken instanceof ObjectGetFailed ? broken : err;
      if (!(cause instanceof BucketFailure || cause instanceof ObjectGetFailed)) throw err;
      if (canRetry && transient(cause) && !env.signal.aborted) return new RetryLater(redactor.apply(cause.message));
      throw new ContextError(redactor.apply(`context ${display}: ${cause.message}`), display, {
        cause,
        ...(cause instanceof BucketFailure && cause.hint !== undefined ? { hint: cause.hint } : {}),
      });
    } finally {
      body?.destroy();
    }
  };
  await retryInEmptyDir(into, env, display, attemptOnce);
}
