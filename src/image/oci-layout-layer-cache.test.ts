/**
 * The layer cache in an OCI layout (`--cache-repo oci:DIR`): what is put is got back (layer,
 * config, key parts), a missing key is undefined, the locator names the newest entry of a step, a
 * blob rotted on disk fails the layer's stream, concurrent puts (in one process and from two
 * processes, as two builds sharing a volume) all land, and skopeo reads an entry as an image.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { afterEach, expect, test } from 'vitest';
import { entryTag } from '../cache/cache-entry.js';
import { entryImage } from '../cache/entry-image.js';
import { IntegrityError } from '../errors.js';
import { keyOf, newEntry } from '../../test/support/cache-entries.js';
import { run, skopeo } from '../../test/support/run.js';
import { ociLayoutLayerCache } from './oci-layout-layer-cache.js';
import { layoutBlobPath, readLayoutIndex } from './oci-layout-source.js';

const signal = new AbortController().signal;
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function cacheDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-layout-cache-'));
  dirs.push(d);
  return join(d, 'cache'); // not there yet: the first put makes it
}

test('put then get gives back the layer, the config and the key with its parts', async () => {
  const dir = await cacheDir();
  const cache = ociLayoutLayerCache({ dir });
  expect(cache.where).toBe(`oci:${dir}`);
  const entry = newEntry('make all');
  await cache.put(entry, signal);
  const got = await cache.get(entry.key, signal);
  expect(got?.key).toEqual(entry.key);
  expect(got?.created).toBe(entry.created);
  expect(got?.config).toEqual(entry.config);
  expect(got?.layer?.descriptor.digest).toBe(entry.layer?.descriptor.digest);
  expect(got?.layer?.diffId).toBe(entry.layer?.diffId);
  expect(got?.layer?.origin).toBeUndefined();
  const gz = Buffer.concat(await (await got!.layer!.open()).toArray());
  expect(gunzipSync(gz).toString()).toBe('made by make all\n'.repeat(500));
});

test('an entry without a layer; a missing key or layout is undefined', async () => {
  const dir = await cacheDir();
  const cache = ociLayoutLayerCache({ dir });
  expect(await cache.get(keyOf('nothing yet'), signal)).toBeUndefined();
  const entry = newEntry('true', { content: null });
  await cache.put(entry, signal);
  const got = await cache.get(entry.key, signal);
  expect(got?.layer).toBeUndefined();
  expect(got?.config.WorkingDir).toBe('/work/true');
  expect(await cache.get(keyOf('something else'), signal)).toBeUndefined();
});

test('closest names the newest entry put for the same step, undefined for an unknown one', async () => {
  const dir = await cacheDir();
  const cache = ociLayoutLayerCache({ dir });
  const older = newEntry('make v1', { place: 'RUN make' });
  const newer = newEntry('make v2', { place: 'RUN make' });
  await cache.put(older, signal);
  await cache.put(newer, signal);
  expect(await cache.closest(newer.locator, signal)).toEqual(newer.key);
  expect(await cache.closest(newEntry('never').locator, signal)).toBeUndefined();
  expect(await cache.get(older.key, signal)).toBeDefined(); // still found by its own key
});

test('a layer blob corrupted on disk fails its stream with a digest error', async () => {
  const dir = await cacheDir();
  const cache = ociLayoutLayerCache({ dir });
  const entry = newEntry('make');
  await cache.put(entry, signal);
  const { digest, size } = entry.layer!.descriptor;
  await writeFile(layoutBlobPath(dir, digest), Buffer.alloc(size, 0x41));
  const got = await cache.get(entry.key, signal);
  const err = await text(await got!.layer!.open()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IntegrityError);
  expect(String(err)).toMatch(/digest mismatch/);
});

test('a corrupted entry config makes get throw, closest say nothing', async () => {
  const dir = await cacheDir();
  const cache = ociLayoutLayerCache({ dir });
  const entry = newEntry('make');
  await cache.put(entry, signal);
  const config = entryImage(entry).manifest.config.digest as `sha256:${string}`;
  await writeFile(layoutBlobPath(dir, config), '{}');
  await expect(cache.get(entry.key, signal)).rejects.toThrow(IntegrityError);
  expect(await cache.closest(entry.locator, signal)).toBeUndefined();
});

test('concurrent puts of different keys into one layout are all readable afterwards', async () => {
  const dir = await cacheDir();
  const entries = Array.from({ length: 8 }, (_, i) => newEntry(`step ${i}`));
  await Promise.all(entries.map((e) => ociLayoutLayerCache({ dir }).put(e, signal)));
  const cache = ociLayoutLayerCache({ dir });
  for (const e of entries) {
    const got = await cache.get(e.key, signal);
    expect(got?.config).toEqual(e.config);
    await text(await got!.layer!.open());
    expect(await cache.closest(e.locator, signal)).toEqual(e.key);
  }
});

test('two processes putting into one layout at once: every entry of both is readable', async () => {
  const dir = await cacheDir();
  const writer = (prefix: string): Promise<Buffer> =>
    run('node_modules/.bin/vite-node', ['test/support/layout-writer.ts', dir, prefix, '8']);
  await Promise.all([writer('a'), writer('b')]);
  const cache = ociLayoutLayerCache({ dir });
  for (const prefix of ['a', 'b'])
    for (let i = 0; i < 8; i++)
      for (const step of [`${prefix} ${i}`, `${prefix} ${i} shared`]) {
        const got = await cache.get(keyOf(step), signal);
        expect(got?.config.WorkingDir, step).toBe(newEntry(step).config.WorkingDir);
        await text(await got!.layer!.open());
        expect(await cache.closest(newEntry(step).locator, signal)).toEqual(keyOf(step));
      }
  expect((await readLayoutIndex(dir))?.manifests).toHaveLength(2 * 8 * 2 * 2);
});

test('skopeo reads an entry as an image, its key in the annotations', async () => {
  const dir = await cacheDir();
  const entry = newEntry('make');
  await ociLayoutLayerCache({ dir }).put(entry, signal);
  const raw = JSON.parse((await skopeo(['inspect', '--raw', `oci:${dir}:${entryTag(entry.key)}`])).toString()) as {
    annotations: Record<string, string>;
  };
  expect(raw.annotations['dev.kiln.cache.key']).toBe(entry.key.digest);
  const info = JSON.parse((await skopeo(['inspect', `oci:${dir}:${entry.locator}`])).toString()) as {
    Layers: string[];
  };
  expect(info.Layers).toEqual([entry.layer!.descriptor.digest]);
});
