/**
 * A pass-through that hashes what flows through it. Used where a digest must be produced in
 * the same pass that moves the bytes (ARCHITECTURE.md §5: "one pass over the bytes produces the
 * diffID, the compressed digest and the size").
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Digest } from '../oci/digest.js';

/** Pass-through that computes sha256 and byte count; `result()` is valid after the stream ended. */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private digest: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = `sha256:${this.hash.digest('hex')}`;
    cb();
  }

  /** Digest and size of everything that passed; throws when called before the stream ended (a bug in the caller). */
  result(): { digest: Digest; size: number } {
    if (this.digest === undefined) throw new Error('HashTap.result() called before the stream ended');
    return { digest: this.digest, size: this.bytes };
  }
}
