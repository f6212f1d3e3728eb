import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { sha256Of } from '../oci/digest.js';
import { BlobStore } from './blob-store.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function store(): Promise<BlobStore> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-blobs-'));
  dirs.push(dir);
  return new BlobStore(dir);
}

const bytes = Buffer.from('layer bytes\n');
const desc = { digest: sha256Of(bytes), size: bytes.length };

test('ingest verifies, stores under DIR/sha256/<hex> and reports digest and size', async () => {
  const s = await store();
  expect(await s.has(desc.digest)).toBe(false);
  expect(await s.ingest(Readable.from([bytes]), desc, 'blob')).toEqual(desc);
  expect(s.path(desc.digest)).toBe(join(s.dir, 'sha256', desc.digest.slice(7)));
  expect(await readFile(s.path(desc.digest))).toEqual(bytes);
  expect(await s.has(desc.digest)).toBe(true);
  const back: Buffer[] = [];
  for await (const c of s.open(desc.digest)) back.push(c as Buffer);
  expect(Buffer.concat(back)).toEqual(bytes);
});

test('ingest without an expected descriptor computes the digest', async () => {
  const s = await store();
  expect(await s.ingest(Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]), undefined, 'blob')).toEqual(desc);
  expect(await s.has(desc.digest)).toBe(true);
});

test('a digest mismatch leaves no file under the digest and no temp file behind', async () => {
  const s = await store();
  const tampered = Buffer.from('layer bytez\n');
  await expect(s.ingest(Readable.from([tampered]), desc, 'layer L')).rejects.toBeInstanceOf(IntegrityError);
  expect(await s.has(desc.digest)).toBe(false);
  expect(await readdir(join(s.dir, 'sha256'))).toEqual([]);
  expect(await readdir(join(s.dir, 'tmp'))).toEqual([]);
});

test('a source failing mid-way leaves nothing behind and keeps its error', async () => {
  const s = await store();
  const source = new Readable({ read() {} });
  source.push(bytes.subarray(0, 4));
  setImmediate(() => source.destroy(new Error('ECONNRESET-ish')));
  await expect(s.ingest(source, desc, 'blob')).rejects.toThrow(/ECONNRESET-ish/);
  expect(await readdir(join(s.dir, 'sha256'))).toEqual([]);
  expect(await readdir(join(s.dir, 'tmp'))).toEqual([]);
});

test('putBytes stores small documents under their digest', async () => {
  const s = await store();
  expect(await s.putBytes(bytes)).toEqual(desc);
  expect(await readFile(s.path(desc.digest))).toEqual(bytes);
});
