/**
 * Layer cache entries for the tests of the two stores (issue 15): a step key from a label, and a
 * new entry whose layer is a small gzip stream held in memory (test only; Kiln's own layers come
 * from the blob store), so each test can name what it put and compare what it gets back.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { NewCacheEntry } from '../../src/cache/layer-cache.js';
import { locatorTag } from '../../src/cache/cache-entry.js';
import { stepKey, type StepKey } from '../../src/cache/step-key.js';
import { sha256Of } from '../../src/oci/digest.js';
import type { Layer } from '../../src/oci/image.js';
import { MediaType } from '../../src/oci/media-types.js';

/** The key of a RUN step whose command is `step`. */
export function keyOf(step: string): StepKey {
  return stepKey({
    platform: 'linux/amd64',
    base: 'scratch',
    below: [],
    step: `RUN ${step}`,
    env: [],
    user: '',
    workdir: '/work',
    shell: ['/bin/sh', '-c'],
  });
}

/** A gzip layer of `content` (bytes standing for a tar), opened from memory. */
export function memoryLayer(content: string): Layer {
  const tar = Buffer.from(content.repeat(500));
  const gz = gzipSync(tar, { level: 1 });
  return {
    descriptor: { mediaType: MediaType.ociLayerGzip, digest: sha256Of(gz), size: gz.length },
    diffId: sha256Of(tar),
    open: async () => Readable.from([gz]),
  };
}

/** A new entry for the RUN `step`, located at the step `place`, with a layer of `content` unless null. */
export function newEntry(step: string, opts: { place?: string; content?: string | null } = {}): NewCacheEntry {
  const content = opts.content === undefined ? `made by ${step}\n` : opts.content;
  return {
    key: keyOf(step),
    locator: locatorTag(['linux/amd64', 'stage 0', opts.place ?? step]),
    platform: { os: 'linux', architecture: 'amd64' },
    created: '2026-12-03T21:00:00.000Z',
    ...(content === null ? {} : { layer: memoryLayer(content) }),
    config: { WorkingDir: `/work/${step.replace(/\W+/g, '-')}`, Env: ['PATH=/bin'] },
  };
}
