/**
 * Writing OCI layouts that other writers share (issue 15: builds sharing `--cache-repo oci:DIR`):
 * two writers of different tags at once, again and again, leave every tag in the index and every
 * blob whole; a layer whose bytes are not its digest is never renamed into place; a stale lock
 * left by a writer that died does not block the next one for ever.
 */
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, expect, test } from 'vitest';
import { sha256Of } from '../oci/digest.js';
import { assembleImage, imageDigest, type Image, type Layer } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { writeOciLayout } from './oci-layout-sink.js';
import { layoutBlobPath, readLayoutIndex, readOciLayoutImage } from './oci-layout-source.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-layout-sink-'));
  dirs.push(d);
  return d;
}

/** A layer streamed in small chunks on later ticks, so concurrent writers interleave (test only). */
function slowLayer(content: string, claimed?: string): Layer {
  const bytes = Buffer.from(content.repeat(2000));
  const digest = sha256Of(claimed === undefined ? bytes : Buffer.from(claimed.repeat(2000)));
  return {
    descriptor: { mediaType: MediaType.ociLayerGzip, digest, size: bytes.length },
    diffId: sha256Of(`diff of ${content}`),
    open: async () =>
      Readable.from(
        (async function* () {
          for (let i = 0; i < bytes.length; i += 4096) {
            await new Promise((r) => setImmediate(r));
            yield bytes.subarray(i, i + 4096);
          }
        })(),
      ),
  };
}

function imageOf(layers: Layer[], label: string): Image {
  return assembleImage(
    {
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { label } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    },
    layers,
  );
}

test('two writers of different tags at once, many times: every tag and every blob intact', async () => {
  const dir = await tempDir();
  const shared = slowLayer('shared base ');
  const rounds = 15;
  for (let i = 0; i < rounds; i++) {
    const a = imageOf([shared, slowLayer(`a${i} `)], `a${i}`);
    const b = imageOf([shared, slowLayer(`b${i} `)], `b${i}`);
    await Promise.all([writeOciLayout(dir, a, `a${i}`), writeOciLayout(dir, b, `b${i}`)]);
  }
  const index = await readLayoutIndex(dir);
  expect(index?.manifests).toHaveLength(2 * rounds);
  for (let i = 0; i < rounds; i++) {
    for (const tag of [`a${i}`, `b${i}`]) {
      const image = await readOciLayoutImage(dir, tag);
      expect(image?.config.config?.Labels?.label).toBe(tag);
      for (const layer of image!.layers) await text(await layer.open()); // verified as it streams
    }
  }
  expect((await readdir(join(dir, 'blobs', 'sha256'))).filter((n) => n.length !== 64)).toEqual([]);
  expect((await readdir(dir)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
});

test('a layer whose bytes do not match its digest fails the write and leaves no blob under that digest', async () => {
  const dir = await tempDir();
  const liar = slowLayer('what it is ', 'what it claims ');
  await expect(writeOciLayout(dir, imageOf([liar], 'liar'), 'liar')).rejects.toThrow(/digest mismatch/);
  expect((await readdir(join(dir, 'blobs', 'sha256'))).sort()).toEqual([]);
  expect(await readLayoutIndex(dir)).toBeUndefined();
});

test('a stale lock left by a dead writer is broken; a writer replacing a tag keeps the others', async () => {
  const dir = await tempDir();
  const first = imageOf([slowLayer('one ')], 'one');
  await writeOciLayout(dir, first, 'one');
  await writeFile(join(dir, 'index.json.lock'), 'pid 1 on a host that died\n');
  const old = new Date(Date.now() - 10 * 60_000);
  await utimes(join(dir, 'index.json.lock'), old, old);
  const second = imageOf([slowLayer('two ')], 'two');
  await writeOciLayout(dir, second, 'two');
  const again = imageOf([slowLayer('one again ')], 'one');
  await writeOciLayout(dir, again, 'one');
  const index = await readLayoutIndex(dir);
  expect(index?.manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'], m.digest])).toEqual([
    ['two', imageDigest(second)],
    ['one', imageDigest(again)],
  ]);
  expect(await readdir(dir)).not.toContain('index.json.lock');
  expect(await text(await (await readOciLayoutImage(dir, 'two'))!.layers[0]!.open())).toBe('two '.repeat(2000));
  expect(layoutBlobPath(dir, imageDigest(first))).toBeTruthy();
});
