import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { sha256Of } from '../oci/digest.js';
import { assembleImage, type Layer } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { imageConfigSchema, manifestSchema } from '../oci/schemas.js';
import { KEY_ANNOTATION } from './cache-entry.js';
import { ENTRY_CREATED_BY, entryImage, entryOfImage } from './entry-image.js';
import type { NewCacheEntry } from './layer-cache.js';
import { stepKey } from './step-key.js';

const key = stepKey({
  platform: 'linux/arm/v7',
  base: 'scratch',
  below: [],
  step: 'RUN make',
  env: ['A=1'],
  user: '',
  workdir: '/src',
  shell: ['/bin/sh', '-c'],
});
const layer: Layer = {
  descriptor: { mediaType: MediaType.dockerLayerGzip, digest: sha256Of('gz'), size: 2 },
  diffId: sha256Of('tar'),
  open: async () => Readable.from([Buffer.from('gz')]),
};
const entry = (withLayer: boolean): NewCacheEntry => ({
  key,
  locator: 'loc-1',
  platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
  created: '2026-12-03T21:00:00Z',
  ...(withLayer ? { layer } : {}),
  config: { WorkingDir: '/src', Env: ['A=1'] },
});

describe('entryImage', () => {
  test('is a valid OCI image: its bytes parse as a manifest and a config', () => {
    const image = entryImage(entry(true));
    const manifest = manifestSchema.parse(JSON.parse(Buffer.from(image.manifestBytes).toString()));
    const config = imageConfigSchema.parse(JSON.parse(Buffer.from(image.configBytes).toString()));
    expect(manifest.mediaType).toBe(MediaType.ociManifest);
    expect(manifest.config.digest).toBe(sha256Of(image.configBytes));
    expect(manifest.layers).toEqual([{ mediaType: MediaType.ociLayerGzip, digest: layer.descriptor.digest, size: 2 }]);
    expect(manifest.annotations?.[KEY_ANNOTATION]).toBe(key.digest);
    expect(manifest.annotations?.[`${KEY_ANNOTATION}.step`]).toBe(key.parts.step);
    expect(config).toEqual({
      created: '2026-12-03T21:00:00Z',
      architecture: 'arm',
      os: 'linux',
      variant: 'v7',
      config: { WorkingDir: '/src', Env: ['A=1'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '2026-12-03T21:00:00Z', created_by: ENTRY_CREATED_BY }],
    });
  });

  test('a step that changed nothing is an entry without layers, its history entry empty', () => {
    const image = entryImage(entry(false));
    expect(image.manifest.layers).toEqual([]);
    expect(image.config.rootfs.diff_ids).toEqual([]);
    expect(image.config.history?.[0]?.empty_layer).toBe(true);
  });
});

describe('entryOfImage', () => {
  test.each([true, false])('gives back what entryImage stored (layer: %s)', (withLayer) => {
    const got = entryOfImage(entryImage(entry(withLayer)), key, 'here');
    expect(got).toEqual({
      key,
      created: '2026-12-03T21:00:00Z',
      ...(withLayer ? { layer } : {}),
      config: { WorkingDir: '/src', Env: ['A=1'] },
    });
  });

  test('another key, no key or two layers is an IntegrityError naming where', () => {
    const other = { ...key, digest: sha256Of('other') };
    expect(() => entryOfImage(entryImage(entry(true)), other, 'r/c:x')).toThrow(/r\/c:x records the key/);
    const foreign = assembleImage(entryImage(entry(true)).config, [layer]);
    expect(() => entryOfImage(foreign, key, 'r/c:x')).toThrow(/not a Kiln layer cache entry/);
    const two = { ...entryImage(entry(true)), layers: [layer, layer] };
    expect(() => entryOfImage(two, key, 'r/c:x')).toThrow(/2 layers/);
  });
});
