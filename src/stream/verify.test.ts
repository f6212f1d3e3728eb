import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { verifyDigest } from './verify.js';

const bytes = Buffer.from('hello, layer\n');
const good = { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };

function sink(collected: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _e, cb) {
      collected.push(chunk);
      cb();
    },
  });
}

test('passes the exact bytes through when digest and size match', async () => {
  const out: Buffer[] = [];
  await pipeline(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), verifyDigest(good, 'blob'), sink(out));
  expect(Buffer.concat(out)).toEqual(bytes);
});

test('fails with IntegrityError naming the blob when the digest differs', async () => {
  const wrong = { ...good, digest: `sha256:${'0'.repeat(64)}` };
  const run = pipeline(Readable.from([bytes]), verifyDigest(wrong, 'layer X of repo'), sink([]));
  await expect(run).rejects.toBeInstanceOf(IntegrityError);
  await expect(run).rejects.toThrow(/layer X of repo: digest mismatch/);
});

test('fails when fewer bytes than expected arrive', async () => {
  const run = pipeline(Readable.from([bytes.subarray(0, 4)]), verifyDigest(good, 'blob'), sink([]));
  await expect(run).rejects.toThrow(/expected 13 bytes, got 4/);
});

test('fails as soon as more bytes than expected arrive, without waiting for the end', async () => {
  // A source that never ends: only the size check can stop it.
  const endless = new Readable({ read() {} });
  endless.push(Buffer.concat([bytes, Buffer.from('x')]));
  const run = pipeline(endless, verifyDigest(good, 'blob'), sink([]));
  await expect(run).rejects.toBeInstanceOf(IntegrityError);
  await expect(run).rejects.toThrow(/more than the expected 13 bytes/);
});

test('refuses digests it cannot check', () => {
  expect(() => verifyDigest({ digest: 'sha512:abc', size: 1 }, 'blob')).toThrow(IntegrityError);
});
