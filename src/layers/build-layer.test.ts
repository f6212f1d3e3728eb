import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, expect, test } from 'vitest';
import { BlobStore } from '../cache/blob-store.js';
import { sha256Of } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { buildLayer } from './build-layer.js';
import { changesForPaths } from '../../test/support/changes-for-paths.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** The same content, made at a different time each call (so real mtimes and inodes differ). */
async function makeRootfs(stamp: number): Promise<Rootfs> {
  const root = await temp('kiln-bl-');
  await mkdir(join(root, 'app/lib'), { recursive: true });
  await writeFile(join(root, 'app/lib/a.txt'), 'alpha\n'.repeat(1000));
  await writeFile(join(root, 'app/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  for (const p of ['app/lib/a.txt', 'app/run.sh', 'app/lib', 'app'])
    await utimes(join(root, p), new Date(stamp), new Date(stamp));
  return new Rootfs(root);
}

test('the same files give the same layer digest and diffId when mtimes are clamped', async () => {
  const store = new BlobStore(await temp('kiln-bl-store-'));
  const clampMtime = new Date(1_000_000_000_000);
  const one = await makeRootfs(1_700_000_000_000);
  const two = await makeRootfs(1_710_000_000_000);
  const l1 = await buildLayer(one, await changesForPaths(one, ['/app']), store, { clampMtime });
  const l2 = await buildLayer(two, await changesForPaths(two, ['/app']), store, { clampMtime });
  expect(l1).toBeDefined();
  expect(l2?.descriptor).toEqual(l1?.descriptor);
  expect(l2?.diffId).toEqual(l1?.diffId);
  // Without clamping the differing mtimes show.
  const l3 = await buildLayer(two, await changesForPaths(two, ['/app']), store, {});
  expect(l3?.descriptor.digest).not.toBe(l1?.descriptor.digest);
});

test('descriptor, diffId and stored blob agree; open() reads the stored blob', async () => {
  const store = new BlobStore(await temp('kiln-bl-store-'));
  const r = await makeRootfs(1_700_000_000_000);
  const layer = await buildLayer(r, await changesForPaths(r, ['/app']), store, { compressionLevel: 9 });
  if (!layer) throw new Error('expected a layer');
  expect(layer.descriptor.mediaType).toBe(MediaType.ociLayerGzip);
  const blob = await readFile(store.path(layer.descriptor.digest));
  expect(sha256Of(blob)).toBe(layer.descriptor.digest);
  expect(blob.length).toBe(layer.descriptor.size);
  expect(sha256Of(gunzipSync(blob))).toBe(layer.diffId);
  const chunks: Buffer[] = [];
  for await (const c of await layer.open()) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks).equals(blob)).toBe(true);
});

test('no changes, no layer', async () => {
  const store = new BlobStore(await temp('kiln-bl-store-'));
  expect(await buildLayer(await makeRootfs(0), [], store, {})).toBeUndefined();
});
