import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { GZIP_BLOCK, parallelGzip } from './parallel-gzip.js';

async function gz(input: Buffer, chunk: number, level = 6): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const c of Readable.from(pieces).pipe(parallelGzip(level))) out.push(c as Buffer);
  return Buffer.concat(out);
}

// Half random, half repetitive: several members, some compressible.
const input = Buffer.concat([randomBytes(GZIP_BLOCK + 12345), Buffer.alloc(2 * GZIP_BLOCK, 'layer ')]);

test('the members form one gzip stream that Node and GNU gzip read whole', async () => {
  const out = await gz(input, 64 * 1024);
  expect(gunzipSync(out).equals(input)).toBe(true);
  // GNU gzip reads concatenated members as one stream too.
  const child = execFile('gzip', ['-dc'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const done = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => chunks.push(d));
    child.once('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`gzip exited ${String(code)}`)),
    );
  });
  child.stdin?.end(out);
  expect((await done).equals(input)).toBe(true);
});

test('the output depends on the bytes and level, not on how they arrive', async () => {
  const a = await gz(input, 7_777);
  const b = await gz(input, 1 << 20);
  expect(a.equals(b)).toBe(true);
  expect((await gz(input, 1 << 20, 1)).equals(a)).toBe(false);
});

test('empty input is a valid empty gzip stream', async () => {
  expect(gunzipSync(await gz(Buffer.alloc(0), 1))).toHaveLength(0);
});
