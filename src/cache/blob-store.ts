/**
 * Content-addressed blobs on disk, laid out like an OCI image layout's `blobs/` directory
 * (`DIR/sha256/<hex>`), so a blob's name is its digest and a file under that name is always
 * whole and verified: bytes land in a temp file in the same directory tree and are renamed into
 * place only after the digest checked out (rename(2) is atomic within a filesystem).
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errnoCode, fsError } from '../errors.js';
import { digestHex, isDigest, sha256Of, type Digest } from '../oci/digest.js';
import { HashTap } from '../stream/hash.js';
import { verifyDigest } from '../stream/verify.js';

/** errno codes that mean the local disk refused, as opposed to the source stream failing. */
const LOCAL_FS_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
  'EIO',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EMFILE',
  'ENFILE',
  'EEXIST',
]);

/** A directory of blobs named by digest. Safe for concurrent ingests of the same digest. */
export class BlobStore {
  readonly dir: string;
  /** Downloads under way, by digest, so that concurrent stages wanting one blob share it. */
  private readonly fetching = new Map<string, Promise<unknown>>();

  /** `dir` is created on first write. */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** Host path where the blob with `digest` lives (whether or not it exists). */
  path(digest: Digest): string {
    if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${String(digest)}`);
    return join(this.dir, 'sha256', digestHex(digest));
  }

  /** Whether the blob is present. Presence implies it was verified when it was written. */
  async has(digest: Digest): Promise<boolean> {
    try {
      return (await stat(this.path(digest))).isFile();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw fsError(`checking blob ${digest} in ${this.dir}`, err);
    }
  }

  /**
   * Makes sure the store holds `expected`: unless it is there, or already being fetched for
   * another caller (then that fetch is awaited), `open()` is called and its bytes ingested,
   * verified. Resolves true for the one caller whose `open()` fetched it.
   */
  async fetch(
    expected: { digest: Digest; size: number },
    open: () => Promise<Readable>,
    what: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const shared = this.fetching.get(expected.digest);
    if (shared) return shared.then(() => false);
    if (await this.has(expected.digest)) return false;
    const again = this.fetching.get(expected.digest);
    if (again) return again.then(() => false);
    const mine = open().then((source) => this.ingest(source, expected, what, signal));
    this.fetching.set(expected.digest, mine);
    try {
      await mine;
      return true;
    } finally {
      this.fetching.delete(expected.digest);
    }
  }

  /** A fresh stream of the blob's bytes; errors (ENOENT included) surface on the stream. */
  open(digest: Digest, signal?: AbortSignal): Readable {
    return createReadStream(this.path(digest), signal ? { signal } : {});
  }

  /** Where partial writes go: beside the blobs, so rename() never crosses filesystems. */
  private async tempPath(): Promise<string> {
    const tmp = join(this.dir, 'tmp');
    try {
      await mkdir(tmp, { recursive: true });
      await mkdir(join(this.dir, 'sha256'), { recursive: true });
    } catch (err) {
      throw fsError(`creating blob store ${this.dir}`, err);
    }
    return join(tmp, `ingest-${randomBytes(8).toString('hex')}`);
  }

  /**
   * Streams `source` into a temp file in the store, verifying against `expected` when given
   * (verifyDigest), renames into place when whole; returns digest and size. Never leaves a
   * partial blob under a digest name.
   */
  async ingest(
    source: Readable,
    expected: { digest: Digest; size: number } | undefined,
    what: string,
    signal?: AbortSignal,
  ): Promise<{ digest: Digest; size: number }> {
    // Until pipeline() listens, an error of the source (a dropped connection) must not crash
    // the process as an unhandled 'error' event; pipeline still sees it via `source.errored`.
    const early = (): void => {};
    source.on('error', early);
    let temp: string;
    try {
      temp = await this.tempPath();
    } catch (err) {
      source.off('error', early);
      source.destroy(); // nobody else will consume it
      throw err;
    }
    const tap = new HashTap();
    const check: Transform = expected ? verifyDigest(expected, what) : tap;
    const sink = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    try {
      const piped = pipeline(source, check, sink, signal ? { signal } : {});
      source.off('error', early);
      await piped;
      const result = expected ? { digest: expected.digest, size: expected.size } : tap.result();
      await rename(temp, this.path(result.digest));
      return result;
    } catch (err) {
      // A source that fails before the file is open leaves the open in flight: it still creates
      // the file, then closes it. Only after that may the file go, or it would stay behind.
      if (!sink.closed) await once(sink, 'close').catch(() => {});
      await rm(temp, { force: true }).catch(() => {});
      // Digest mismatches, aborts and network errors of the source keep their own types;
      // only local filesystem failures become FilesystemError.
      if (LOCAL_FS_CODES.has(errnoCode(err) ?? '')) throw fsError(`storing ${what} in ${this.dir}`, err);
      throw err;
    }
  }

  /** Stores bytes already in memory (manifests, configs): small by contract. */
  async putBytes(bytes: Uint8Array): Promise<{ digest: Digest; size: number }> {
    const result = { digest: sha256Of(bytes), size: bytes.length };
    const temp = await this.tempPath();
    try {
      await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
      await rename(temp, this.path(result.digest));
      return result;
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      throw fsError(`storing blob ${result.digest} in ${this.dir}`, err);
    }
  }
}
