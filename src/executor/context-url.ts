/**
 * A remote tarball context (issue 14): `http(s)://HOST/PATH.tar.gz` on any host but Azure Blob
 * Storage's, as `docker build URL` takes one. The GET goes through `ADD <url>`'s HTTP stack
 * (registry/http-fetch.ts: `--network-timeout`, the build's extra CAs, the redirect policy,
 * redaction of passwords and signed queries), and the body is unpacked as it arrives
 * (context-tar.ts) through a spool file that keeps the socket drained (context-spool.ts), never
 * buffered whole. A transient failure (a
 * timeout, a reset, a 408/429/5xx) starts again on an emptied directory, with the registry
 * client's backoff; one that lasts, a 403/404 or an unreachable host is exit 4 naming the context.
 */
import { DEFAULT_DOWNLOAD_POLICY, isTransientFetchFailure } from '../commands/add-url.js';
import { ContextError } from '../errors.js';
import { FetchFailed, fetchStream, RetryLater } from '../registry/index.js';
import { buildTrustedCas, type BuildEnv } from './build-env.js';
import { retryInEmptyDir, spool } from './context-spool.js';
import { unpackContext } from './context-tar.js';
import type { ContextFetcher, EntryListener } from './remote-context.js';
import { downloadPolicy } from './stage.js';

/** One GET, its body unpacked into `into`; a broken body rejects with its (redacted) FetchFailed. */
async function fetchOnce(
  url: URL,
  into: string,
  env: BuildEnv,
  display: string,
  onEntry?: EntryListener,
): Promise<void> {
  const policy = downloadPolicy(env.options.networkTimeoutMs, buildTrustedCas(env)).download ?? DEFAULT_DOWNLOAD_POLICY;
  const dl = await fetchStream(url, {
    signal: env.signal,
    timeouts: policy.timeouts,
    userAgent: `kiln/${env.version}`,
    ...(policy.trustedCas ? { trustedCas: policy.trustedCas } : {}),
  });
  try {
    await unpackContext(await spool(dl.body, into), into, env, display, onEntry);
  } catch (err) {
    // The archive reader reports whatever broke the stream; a network failure is not the archive's.
    const broken = dl.body.errored;
    if (broken instanceof FetchFailed)
      throw new FetchFailed(`downloading: ${broken.message}`, { ...broken.extra, cause: broken });
    throw err;
  } finally {
    dl.body.destroy();
  }
}

/** The fetcher of an http(s) tarball context (remote-context.ts loads it when a build uses one). */
export const fetchUrlContext: ContextFetcher = async (spec, into, env, display, onEntry) => {
  if (spec.kind !== 'url') throw new Error(`internal: the URL fetcher got a ${spec.kind} context`);
  let attempts = 0;
  try {
    await retryInEmptyDir(into, env, display, async (canRetry) => {
      attempts++;
      try {
        return await fetchOnce(spec.url, into, env, display, onEntry);
      } catch (err) {
        if (canRetry && err instanceof FetchFailed && isTransientFetchFailure(err) && !env.signal.aborted)
          return new RetryLater(err.message);
        throw err;
      }
    });
  } catch (err) {
    if (!(err instanceof FetchFailed)) throw err;
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    throw new ContextError(`context ${display}: ${err.message}${tries}`, display, { cause: err });
  }
};
