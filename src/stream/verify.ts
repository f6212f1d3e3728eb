/**
 * Verify before trusting (ARCHITECTURE.md §11 rule 3): every blob read from a registry, a layout or a
 * cache passes through {@link verifyDigest}, which fails the pipeline when the bytes are not
 * the ones the descriptor names (OCI image spec, descriptor.md "Digests": consumers MUST verify).
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';

/**
 * Transform passing bytes through while hashing them; in flush() throws IntegrityError if the
 * sha256 or the byte count differs from `expected` (and errors as soon as more than
 * expected.size bytes arrive, so an endless body cannot fill the disk). `what` names the blob
 * in messages, e.g. "layer sha256:… of 127.0.0.1:5000/base/busybox".
 */
export function verifyDigest(expected: { digest: string; size: number }, what: string): Transform {
  const algo = expected.digest.slice(0, expected.digest.indexOf(':'));
  if (algo !== 'sha256') {
    throw new IntegrityError(`cannot verify ${what}: unsupported digest algorithm in "${expected.digest}"`);
  }
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
      seen += chunk.length;
      if (seen > expected.size) {
        cb(new IntegrityError(`${what}: more than the expected ${expected.size} bytes received`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback): void {
      if (seen !== expected.size) {
        cb(new IntegrityError(`${what}: expected ${expected.size} bytes, got ${seen} (truncated)`));
        return;
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== expected.digest) {
        cb(new IntegrityError(`${what}: digest mismatch, expected ${expected.digest}, got ${actual}`));
        return;
      }
      cb();
    },
  });
}
