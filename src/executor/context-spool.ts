/**
 * A remote context's bytes between the network and the unpacking (issue 14). The socket is read
 * at network speed into a spool file while the unpacking reads that file as it grows, at its own
 * pace: unpacking 20,000 small files is far slower than a local network, and a server that
 * closes a connection it sees idle once its response is flushed (Node's http server after 5 s,
 * s3rver, proxies) would otherwise cut a slow reader mid-archive ("connection closed
 * unexpectedly"), every try alike. Memory stays bounded; the file is unlinked as soon as it is
 * open, so it is never left behind and never read by name again. Also the fetchers' shared
 * "start again on an emptied directory" ({@link retryInEmptyDir}).
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsError } from '../errors.js';
import { DEFAULT_RETRIES, realSleep, withRetries, type RetryLater } from '../registry/index.js';
import type { BuildEnv } from './build-env.js';

const CHUNK = 256 * 1024;

/**
 * `source` spooled through a file beside `nextTo` (the context directory): resolves to a stream
 * of the same bytes. An error of `source` reaches the reader (the try fails and the caller starts
 * again); destroying the reader stops `source`.
 */
export async function spool(source: Readable, nextTo: string): Promise<Readable> {
  // Until pipeline() listens, an error of the source (a cut connection) must not crash the
  // process as an unhandled 'error' event; pipeline still sees it through `source.errored`.
  const early = (): void => {};
  source.on('error', early);
  const path = `${nextTo}.spool-${randomBytes(4).toString('hex')}`;
  const fh = await open(path, 'wx+', 0o600).catch((err: unknown) => {
    source.off('error', early);
    source.destroy();
    throw fsError(`creating ${path}`, err);
  });
  await unlink(path).catch(() => undefined);
  let written = 0;
  let finished = false;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      fh.write(chunk, 0, chunk.length, written).then(() => {
        written += chunk.length;
        notify();
        done();
      }, done);
    },
  });
  const piped = pipeline(source, sink);
  source.off('error', early);
  void piped
    .then(
      () => void (finished = true),
      (err: unknown) => void (failed = err instanceof Error ? err : new Error(String(err))),
    )
    .finally(notify);
  let pos = 0;
  let pumping = false;
  const reader = new Readable({
    read() {
      if (pumping) return;
      pumping = true;
      void (async () => {
        try {
          for (;;) {
            if (reader.destroyed) return;
            if (pos < written) {
              const buf = Buffer.allocUnsafe(Math.min(CHUNK, written - pos));
              const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
              pos += bytesRead;
              if (!reader.push(buf.subarray(0, bytesRead))) return;
            } else if (failed) {
              reader.destroy(failed);
              return;
            } else if (finished) {
              reader.push(null);
              return;
            } else {
              await new Promise<void>((r) => (wake = r));
            }
          }
        } catch (err) {
          reader.destroy(err instanceof Error ? err : new Error(String(err)));
        } finally {
          pumping = false;
        }
      })();
    },
    destroy(err, done) {
      source.destroy();
      notify();
      fh.close().then(
        () => done(err),
        () => done(err),
      );
    },
  });
  return reader;
}

/**
 * Runs `attempt` until it succeeds, throws, or has no tries left, as the registry client retries
 * (its backoff and count): every try after the first starts on `into` emptied, and each retry is
 * logged naming the context.
 */
export async function retryInEmptyDir(
  into: string,
  env: BuildEnv,
  display: string,
  attempt: (canRetry: boolean) => Promise<void | RetryLater>,
): Promise<void> {
  let attempts = 0;
  await withRetries(
    {
      retries: DEFAULT_RETRIES,
      sleep: realSleep,
      signal: env.signal,
      onRetry: (reason, wait, n) =>
        env.logger.warn(`retrying in ${wait} ms: context ${display}: ${reason}`, { attempt: n }),
    },
    async (canRetry) => {
      if (attempts++ > 0) await emptyDir(into);
      return attempt(canRetry);
    },
  );
}

/** Empties `dir` for another try (a failed try may have unpacked part of the archive). */
async function emptyDir(dir: string): Promise<void> {
  try {
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
  } catch (err) {
    throw fsError(`emptying ${dir} to fetch the context again`, err);
  }
}
