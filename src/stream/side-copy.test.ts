import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect, test } from 'vitest';
import { SideCopy } from './side-copy.js';

const pieces = Array.from({ length: 64 }, () => randomBytes(10_000));
const all = Buffer.concat(pieces);

function collector(): { sink: Writable; bytes: () => Buffer } {
  const got: Buffer[] = [];
  return { sink: new Writable({ write: (c: Buffer, _e, cb) => (got.push(c), cb()) }), bytes: () => Buffer.concat(got) };
}

test('both the main stream and the side copy get every byte, in order, even when the side is slow', async () => {
  const side: Buffer[] = [];
  // A side that accepts one small buffer at a time, answering later: it pushes back all along.
  const slow = new Writable({ highWaterMark: 1, write: (c: Buffer, _e, cb) => (side.push(c), setImmediate(cb)) });
  const main = collector();
  const sideDone = new Promise((resolve) => slow.once('finish', resolve));
  await pipeline(Readable.from(pieces), new SideCopy(slow), main.sink);
  expect(main.bytes().equals(all)).toBe(true);
  // The side is ended with the main stream; its last writes may still be under way.
  await sideDone;
  expect(Buffer.concat(side).equals(all)).toBe(true);
});

test('a failing side copy is dropped: the main stream still completes, and failure() says why', async () => {
  let n = 0;
  const failing = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => (++n === 3 ? cb(new Error('connection reset')) : setImmediate(cb)) });
  const main = collector();
  const copy = new SideCopy(failing);
  await pipeline(Readable.from(pieces), copy, main.sink);
  expect(main.bytes().equals(all)).toBe(true);
  expect(copy.failure()?.message).toBe('connection reset');
});

test('a failure of the main stream destroys the side copy too', async () => {
  const side = new PassThrough();
  side.resume();
  const source = new Readable({ read() { this.destroy(new Error('disk gone')); } });
  await expect(pipeline(source, new SideCopy(side), collector().sink)).rejects.toThrow('disk gone');
  expect(side.destroyed).toBe(true);
});
