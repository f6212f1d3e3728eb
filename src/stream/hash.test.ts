import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect, test } from 'vitest';
import { sha256Of } from '../oci/digest.js';
import { HashTap } from './hash.js';

test('HashTap reports sha256 and size of what passed, and passes it unchanged', async () => {
  const tap = new HashTap();
  const parts = [Buffer.from('abc'), Buffer.from('defg')];
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), tap, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  expect(Buffer.concat(out).toString()).toBe('abcdefg');
  expect(tap.result()).toEqual({ digest: sha256Of('abcdefg'), size: 7 });
});

test('HashTap.result() before the end is a bug and throws', () => {
  expect(() => new HashTap().result()).toThrow(/before the stream ended/);
});
