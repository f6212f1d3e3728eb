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
  await pipeline(Readable.from(pieces), new SideCopy(() => Promise.resolve(slow)), main.sink);
  expect(main.bytes().equals(all)).toBe(true);
  // The side is ended with the main stream; its last writes may still be under way.
  await sideDone;
  expect(Buffer.concat(side).equals(all)).toBe(true);
});

test('a failing side copy is dropped: the main stream still completes, and failure() says why', async () => {
  let n = 0;
  const failing = new Writable({
    highWaterMark: 1,
    write: (_c, _e, cb) => (++n === 3 ? cb(new Error('connection reset')) : setImmediate(cb)),
  });
  const main = collector();
  const copy = new SideCopy(() => Promise.resolve(failing));
  await pipeline(Readable.from(pieces), copy, main.sink);
  expect(main.bytes().equals(all)).toBe(true);
  expect(copy.failure()?.message).toBe('connection reset');
});

test('a failure of the main stream destroys the side copy too', async () => {
  const side = new PassThrough();
  side.resume();
  let reads = 0;
  const source = new Readable({
    read() {
      if (reads++ === 0) this.push(Buffer.from('first'));
      else setImmediate(() => this.destroy(new Error('disk gone')));
    },
  });
  await expect(pipeline(source, new SideCopy(() => Promise.resolve(side)), collector().sink)).rejects.toThrow(
    'disk gone',
  );
  expect(side.destroyed).toBe(true);
});

test('with startAfter, the side opens only once that many bytes passed, and still gets every byte', async () => {
  const late = collector();
  let opens = 0;
  const copy = new SideCopy(() => (opens++, Promise.resolve(late.sink)), 100_000);
  const sideDone = new Promise((resolve) => late.sink.once('finish', resolve));
  const main = collector();
  await pipeline(Readable.from(pieces), copy, main.sink);
  await sideDone;
  expect(opens).toBe(1);
  expect(copy.opened()).toBe(true);
  expect(late.bytes().equals(all)).toBe(true);
  expect(main.bytes().equals(all)).toBe(true);
});

test('a stream shorter than startAfter never opens the side', async () => {
  let opens = 0;
  const copy = new SideCopy(() => (opens++, Promise.resolve(collector().sink)), all.length + 1);
  const main = collector();
  await pipeline(Readable.from(pieces), copy, main.sink);
  expect(opens).toBe(0);
  expect(copy.opened()).toBe(false);
  expect(copy.failure()).toBeUndefined();
  expect(main.bytes().equals(all)).toBe(true);
});

test('a side that cannot be opened is dropped; the main stream goes on', async () => {
  const copy = new SideCopy(() => Promise.reject(new Error('registry down')), 1000);
  const main = collector();
  await pipeline(Readable.from(pieces), copy, main.sink);
  expect(copy.failure()?.message).toBe('registry down');
  expect(main.bytes().equals(all)).toBe(true);
});
