/**
 * Reading images back out of OCI layouts: one Kiln's sink wrote, one skopeo wrote, one whose
 * index tags a nested index of two platforms; a missing tag or layout is undefined, and bytes that
 * do not match their digest fail (the manifest or config at once, a layer when it is streamed).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { sha256Of, type Digest } from '../oci/digest.js';
import { assembleImage, imageDigest, type Layer } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import type { ImageConfig } from '../oci/schemas.js';
import { makeBusyboxLayout } from '../../test/support/busybox.js';
import { skopeo } from '../../test/support/run.js';
import { writeOciLayout } from './oci-layout-sink.js';
import { layoutBlobPath, ociLayoutSource, readOciLayoutImage } from './oci-layout-source.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-layout-src-'));
  dirs.push(d);
  return d;
}

/** A layer held in memory (test only): its bytes stand for a compressed tar; the diffID is made up. */
function memoryLayer(content: string): Layer {
  const bytes = Buffer.from(content);
  return {
    descriptor: { mediaType: MediaType.ociLayerGzip, digest: sha256Of(bytes), size: bytes.length },
    diffId: sha256Of(`diff of ${content}`),
    open: async () => Readable.from([bytes]),
  };
}

function configFor(layers: Layer[], arch = 'amd64'): ImageConfig {
  return {
    architecture: arch,
    os: 'linux',
    config: { WorkingDir: '/app' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
}

async function writtenByKiln(dir: string, tag = 'v1'): Promise<ReturnType<typeof assembleImage>> {
  const layers = [memoryLayer('layer one'), memoryLayer('layer two')];
  const image = assembleImage(configFor(layers), layers);
  await writeOciLayout(dir, image, tag);
  return image;
}

describe('readOciLayoutImage', () => {
  test('reads back what writeOciLayout wrote: manifest bytes, config and each layer', async () => {
    const dir = await tempDir();
    const written = await writtenByKiln(dir);
    const image = await readOciLayoutImage(dir, 'v1');
    expect(image).toBeDefined();
    expect(imageDigest(image!)).toBe(imageDigest(written));
    expect(image!.config.config?.WorkingDir).toBe('/app');
    expect(image!.layers.map((l) => l.diffId)).toEqual(written.layers.map((l) => l.diffId));
    expect(await text(await image!.layers[1]!.open())).toBe('layer two');
    expect(image!.layers[0]!.origin).toBeUndefined();
  });

  test('a missing tag, index or directory is undefined', async () => {
    const dir = await tempDir();
    expect(await readOciLayoutImage(dir, 'v1')).toBeUndefined();
    expect(await readOciLayoutImage(join(dir, 'nowhere'), 'v1')).toBeUndefined();
    await writtenByKiln(dir);
    expect(await readOciLayoutImage(dir, 'v2')).toBeUndefined();
    await expect(
      ociLayoutSource(dir).resolve('v2', { os: 'linux', architecture: 'amd64' }, new AbortController().signal),
    ).rejects.toThrow(/no image is tagged v2/);
  });

  test('a layout skopeo wrote is read with the digests skopeo reports', async () => {
    const dir = await tempDir();
    const base = await makeBusyboxLayout(join(dir, 'src'));
    await skopeo(['copy', '--quiet', `oci:${join(dir, 'src')}:latest`, `oci:${join(dir, 'copy')}:bb`]);
    const raw = await skopeo(['inspect', '--raw', `oci:${join(dir, 'copy')}:bb`]);
    const image = await readOciLayoutImage(join(dir, 'copy'), 'bb');
    expect(image).toBeDefined();
    expect(imageDigest(image!)).toBe(sha256Of(raw));
    expect(image!.layers.map((l) => l.diffId)).toEqual(base.diffIds);
    const hash = createHash('sha256');
    for await (const chunk of await image!.layers[0]!.open()) hash.update(chunk as Buffer);
    expect(`sha256:${hash.digest('hex')}`).toBe(image!.layers[0]!.descriptor.digest);
  });

  test('a nested index is followed to the platform asked for', async () => {
    const dir = await tempDir();
    const amd = assembleImage(configFor([memoryLayer('amd')]), [memoryLayer('amd')]);
    const arm = assembleImage(configFor([memoryLayer('arm')], 'arm64'), [memoryLayer('arm')]);
    await writeOciLayout(dir, amd, 'amd');
    await writeOciLayout(dir, arm, 'arm');
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [amd, arm].map((img) => ({
          mediaType: MediaType.ociManifest,
          digest: imageDigest(img),
          size: img.manifestBytes.length,
          platform: { os: 'linux', architecture: img.config.architecture },
        })),
      }),
    );
    await writeFile(layoutBlobPath(dir, sha256Of(index)), index);
    const top = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
    top.manifests.push({
      mediaType: MediaType.ociIndex,
      digest: sha256Of(index),
      size: index.length,
      annotations: { 'org.opencontainers.image.ref.name': 'multi' },
    });
    await writeFile(join(dir, 'index.json'), JSON.stringify(top));
    const got = await readOciLayoutImage(dir, 'multi', { os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(imageDigest(got!)).toBe(imageDigest(arm));
    await expect(readOciLayoutImage(dir, 'multi', { os: 'linux', architecture: 's390x' })).rejects.toThrow(
      /no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\)/,
    );
  });
});

describe('what does not match its digest', () => {
  test('a corrupted layer blob fails its stream with a digest error', async () => {
    const dir = await tempDir();
    const written = await writtenByKiln(dir);
    await writeFile(layoutBlobPath(dir, written.layers[0]!.descriptor.digest), 'layer 0ne');
    const image = await readOciLayoutImage(dir, 'v1');
    await expect(text(await image!.layers[0]!.open())).rejects.toThrow(/digest mismatch/);
    await writeFile(layoutBlobPath(dir, written.layers[1]!.descriptor.digest), 'layer two and more');
    await expect(text(await image!.layers[1]!.open())).rejects.toThrow(IntegrityError);
  });

  test('a missing layer blob fails its open', async () => {
    const dir = await tempDir();
    const written = await writtenByKiln(dir);
    await rm(layoutBlobPath(dir, written.layers[0]!.descriptor.digest));
    const image = await readOciLayoutImage(dir, 'v1');
    await expect(image!.layers[0]!.open()).rejects.toThrow(/blob is missing/);
  });

  test.each([
    ['the manifest', (img: ReturnType<typeof assembleImage>): Digest => imageDigest(img)],
    ['the config', (img: ReturnType<typeof assembleImage>): Digest => img.manifest.config.digest as Digest],
  ])('a corrupted %s is an IntegrityError', async (_what, blobOf) => {
    const dir = await tempDir();
    const written = await writtenByKiln(dir);
    const path = layoutBlobPath(dir, blobOf(written));
    const bytes = await readFile(path);
    // Same length, one character changed: only the digest can tell.
    await writeFile(path, bytes.toString('latin1').replace('"', "'"), 'latin1');
    await expect(readOciLayoutImage(dir, 'v1')).rejects.toThrow(/does not match its digest/);
  });

  test('a malformed index.json is an IntegrityError', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'index.json'), '{"schemaVersion": 2, "manif');
    await expect(readOciLayoutImage(dir, 'v1')).rejects.toThrow(IntegrityError);
  });
});
