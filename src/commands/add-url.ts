/**
 * `ADD <http(s) URL>` (Dockerfile reference, "Adding files from a URL"): the file is streamed into
 * the rootfs — never held in memory — with mode 0600 unless `--chmod`, owned by root unless
 * `--chown`, and the `Last-Modified` time as mtime (epoch 0 without one, as BuildKit's http
 * source). `--checksum=<algorithm>:<hex>` is verified over the bytes as they pass; a mismatch
 * fails the build with an integrity error. Remote archives are not unpacked unless
 * `--unpack=true`. The GET goes through the registry client's HTTP layer
 * (registry/http-fetch.ts): its timeouts, redirect policy and redaction, so no message or log
 * shows the URL's password or signed query.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, pipeline as pipeStreams, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DockerfileError, fsError, IntegrityError, StepError } from '../errors.js';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import { DEFAULT_RETRIES } from '../registry/client.js';
import { FetchFailed, fetchStream, type FetchedStream } from '../registry/http-fetch.js';
import { classifyNetworkError, DEFAULT_TIMEOUTS } from '../registry/network-error.js';
import { redactUrl } from '../registry/redact.js';
import { isRetryableStatus, realSleep, RetryLater, withRetries } from '../registry/retry.js';
import type { NetworkTimeouts, SleepFn } from '../registry/types.js';
import type { Owner } from '../rootfs/mkdir.js';
import { writeStreamIntoRootfs } from '../rootfs/copy-in.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { openArchive, unpackInto, type ArchiveIO } from './add-archive.js';
import type { ChmodFn } from './copy-chmod.js';

/** `--checksum` of an http source: a digest (go-digest syntax). */
export interface ExpectedDigest {
  algorithm: 'sha256' | 'sha384' | 'sha512';
  hex: string;
}

const HEX_LENGTH = { sha256: 64, sha384: 96, sha512: 128 } as const;

/** Parses `--checksum` for an http source as BuildKit's `digest.Parse` would. */
export function parseDigest(ins: CopyInstruction, value: string): ExpectedDigest {
  const m = /^(sha256|sha384|sha512):([a-f0-9]+)$/.exec(value);
  const algorithm = m?.[1] as ExpectedDigest['algorithm'] | undefined;
  if (!m || algorithm === undefined || m[2]?.length !== HEX_LENGTH[algorithm]) {
    throw new DockerfileError(
      `ADD --checksum=${value}: invalid checksum digest format (expected e.g. sha256:<64 hex digits>)`,
      ins.at,
      { source: ins.text },
    );
  }
  return { algorithm, hex: m[2] };
}

/** Hashes what passes through with any node:crypto algorithm. */
class DigestTap extends Transform {
  private readonly hash: Hash;
  constructor(algorithm: string) {
    super();
    this.hash = createHash(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

/** One URL source of an ADD. */
export interface UrlItem {
  url: URL;
  /** Where the file lands (a directory's entry or the destination itself). */
  target: string;
  /** The destination as a directory, for `--unpack=true`. */
  destDir: string;
  owner: Owner;
  chmod?: ChmodFn;
  checksum?: ExpectedDigest;
}

/** Timeouts and retries of URL downloads: the registry client's policy (registry/retry.ts). */
export interface DownloadPolicy {
  timeouts: NetworkTimeouts;
  /** Retries after a timeout, a reset or a 408/429/5xx answer. */
  retries: number;
  sleep: SleepFn;
  /** CA certificates trusted besides Node's roots, as for the registries (SSL_CERT_DIR). */
  trustedCas?: readonly string[];
}

/** What a URL download needs from the build. */
export interface UrlIO extends ArchiveIO {
  /** Scratch space outside the rootfs, for `--unpack=true` downloads. */
  tmpDir: string;
  /** Default: 30 s to connect, 60 s for headers and between chunks, 3 retries with backoff. */
  download?: DownloadPolicy;
}

/** The policy of a download when the build sets none (no `--network-timeout`, no extra CAs). */
export const DEFAULT_DOWNLOAD_POLICY: DownloadPolicy = {
  timeouts: DEFAULT_TIMEOUTS,
  retries: DEFAULT_RETRIES,
  sleep: realSleep,
};

/** Whether trying the download again may help, by the registry client's rules. */
export function isTransientFetchFailure(err: FetchFailed): boolean {
  if (err.extra.status !== undefined) return isRetryableStatus(err.extra.status);
  return err.extra.timedOut === true || classifyNetworkError(err.cause)?.retryable === true;
}

/** A failure of the body while it was being read, as a {@link FetchFailed} naming the (redacted) URL; else `err` itself. */
function bodyFailure(dl: FetchedStream, item: UrlItem, err: unknown): unknown {
  const broken = dl.body.errored;
  if (!broken) return err;
  const timedOut = broken instanceof FetchFailed && broken.extra.timedOut === true;
  return new FetchFailed(`downloading ${redactUrl(item.url.href)}: ${broken.message}`, { timedOut, cause: broken });
}

function verify(ins: CopyInstruction, item: UrlItem, tap: DigestTap | undefined): void {
  if (!item.checksum || !tap) return;
  const got = tap.hex();
  if (got !== item.checksum.hex) {
    throw new IntegrityError(
      `${ins.at.file}:${ins.at.line}: ADD ${redactUrl(item.url.href)}: checksum mismatch: expected ${item.checksum.algorithm}:${item.checksum.hex}, got ${item.checksum.algorithm}:${got}`,
    );
  }
}

/**
 * Downloads one URL into the rootfs; returns the image paths written. A transient failure (a
 * timeout, a reset, a 408/429/5xx) starts the download again, with the registry client's backoff.
 */
export async function addUrl(ins: CopyInstruction, rootfs: Rootfs, item: UrlItem, io: UrlIO): Promise<string[]> {
  const policy = io.download ?? DEFAULT_DOWNLOAD_POLICY;
  let attempts = 0;
  try {
    return await withRetries(
      {
        retries: policy.retries,
        sleep: policy.sleep,
        signal: io.signal,
        onRetry: (reason, wait, attempt) => io.logger.warn(`retrying in ${wait} ms: ADD ${reason}`, { attempt }),
      },
      async (canRetry) => {
        attempts++;
        try {
          return await downloadOnce({ ins, rootfs, item, io }, policy);
        } catch (err) {
          if (canRetry && err instanceof FetchFailed && isTransientFetchFailure(err) && !io.signal.aborted)
            return new RetryLater(err.message);
          throw err;
        }
      },
    );
  } catch (err) {
    if (!(err instanceof FetchFailed)) throw err;
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    throw new StepError(`ADD failed: ${err.message}${tries}`, ins.at, { cause: err });
  }
}

/** One URL source of an ADD: the instruction, the rootfs it writes to, the item and the build's I/O. */
interface UrlDownload {
  ins: CopyInstruction;
  rootfs: Rootfs;
  item: UrlItem;
  io: UrlIO;
}

async function downloadOnce(job: UrlDownload, policy: DownloadPolicy): Promise<string[]> {
  const { timeouts, trustedCas } = policy;
  const dl = await fetchStream(job.item.url, {
    signal: job.io.signal,
    timeouts,
    ...(trustedCas ? { trustedCas } : {}),
  });
  try {
    return await writeDownload(job, dl);
  } finally {
    // Read to the end, or given up on: either way its connection is released.
    dl.body.destroy();
  }
}

async function writeDownload(job: UrlDownload, dl: FetchedStream): Promise<string[]> {
  const { ins, rootfs, item, io } = job;
  const shown = redactUrl(item.url.href);
  const tap = item.checksum ? new DigestTap(item.checksum.algorithm) : undefined;
  const meta = {
    owner: item.owner,
    mode: item.chmod ? item.chmod(0o600, false) : 0o600,
    mtime: dl.lastModified ?? new Date(0),
  };
  if (ins.unpack !== true) {
    // The callback form of pipeline returns the tap and passes a broken download on to it.
    const body: Readable = tap ? pipeStreams(dl.body, tap, () => undefined) : dl.body;
    const written = await writeStreamIntoRootfs(rootfs, item.target, body, { ...meta, signal: io.signal }).catch(
      (err: unknown) => {
        throw bodyFailure(dl, item, err);
      },
    );
    verify(ins, item, tap);
    return written;
  }
  // `--unpack=true`: the download goes to scratch space first; only a verified file is unpacked.
  const scratch = await mkdtemp(join(io.tmpDir, 'kiln-add-')).catch((err: unknown) => {
    throw fsError(`creating a download directory in ${io.tmpDir}`, err);
  });
  try {
    const file = join(scratch, 'download');
    await pipeline(dl.body, tap ?? new PassThrough(), createWriteStream(file), { signal: io.signal }).catch(
      (err: unknown) => {
        const failure = bodyFailure(dl, item, err);
        throw failure === err ? fsError(`downloading ${shown}`, err) : failure;
      },
    );
    verify(ins, item, tap);
    const tarBytes = await openArchive(file, io);
    if (tarBytes)
      return await unpackInto(rootfs, tarBytes, { destDir: item.destDir, owner: item.owner, name: shown, io });
    return await writeStreamIntoRootfs(rootfs, item.target, createReadStream(file), { ...meta, signal: io.signal });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
