import { Readable } from 'node:stream';
import { expect, test } from 'vitest';
import { StreamCursor } from './stream-cursor.js';

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(b);
  return Buffer.concat(parts).toString();
}

test('hands out consecutive ranges across chunk boundaries', async () => {
  const c = new StreamCursor(
    Readable.from([Buffer.from('abc'), Buffer.from(''), Buffer.from('defgh'), Buffer.from('ij')]),
  );
  expect(await collect(c.take(4))).toBe('abcd');
  expect(await c.skip(2)).toBe(2);
  expect(await collect(c.take(3))).toBe('ghi');
  expect(await c.atEnd()).toBe(false);
  expect(await collect(c.take(5))).toBe('j');
  expect(await c.atEnd()).toBe(true);
  expect(await c.skip(3)).toBe(0);
});

test('close destroys the source', () => {
  const src = Readable.from([Buffer.from('x')]);
  new StreamCursor(src).close();
  expect(src.destroyed).toBe(true);
});
