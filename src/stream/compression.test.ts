import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { decompressed, sniffCompression } from './compression.js';

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Delivers `data` one byte per chunk, so sniffing must gather the magic across chunks. */
function byteByByte(data: Buffer): Readable {
  return Readable.from([...data].map((b) => Buffer.from([b])));
}

const text = Buffer.from('plain tar bytes, more than four of them\n'.repeat(50));

test.each([
  [[0x1f, 0x8b, 8, 0], 'gzip'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
  [[0x75, 0x73, 0x74, 0x61], 'none'],
  [[0x1f], 'none'],
] as const)('sniffs %j as %s', (head, kind) => {
  expect(sniffCompression(Uint8Array.from(head))).toBe(kind);
});

test('gunzips gzip input even when the magic arrives split across chunks', async () => {
  expect(await readAll(await decompressed(byteByByte(gzipSync(text))))).toEqual(text);
});

test('passes uncompressed input through unchanged', async () => {
  expect(await readAll(await decompressed(byteByByte(text)))).toEqual(text);
});

test('passes a stream shorter than the magic through', async () => {
  expect(await readAll(await decompressed(Readable.from([Buffer.from('ab')])))).toEqual(Buffer.from('ab'));
});

test('rejects zstd with a clear IntegrityError on Node versions without zstd', async () => {
  const zstd = Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0])]);
  const hasZstd = 'createZstdDecompress' in (await import('node:zlib'));
  if (hasZstd) return; // covered once Node has it
  await expect(decompressed(zstd)).rejects.toThrow(IntegrityError);
});

test('corrupt gzip data errors the returned stream', async () => {
  const bad = Buffer.concat([gzipSync(text).subarray(0, 20), Buffer.alloc(100, 7)]);
  await expect(readAll(await decompressed(Readable.from([bad])))).rejects.toThrow();
});

test('an error of the source surfaces on the returned stream', async () => {
  const source = new Readable({ read() {} });
  source.push(gzipSync(text).subarray(0, 30));
  const out = await decompressed(source);
  setImmediate(() => source.destroy(new Error('connection reset')));
  await expect(readAll(out)).rejects.toThrow(/connection reset/);
});
