/**
 * The layer cache in a local OCI layout, for `--cache-repo oci:DIR` (issue 15): one machine, or a
 * volume several builds share. Each entry is a small image (cache/entry-image.ts) tagged in the
 * layout's index by its key's hex and by its step's locator, as the registry cache tags them in a
 * repository; skopeo and umoci read it as any layout. Reads verify every document against its
 * digest and stream layers through `verifyDigest` (oci-layout-source.ts); writes are safe for
 * concurrent builds (oci-layout-sink.ts: temp names renamed into place, the index under a lock).
 */
import { entryTag, keyOfAnnotations } from '../cache/cache-entry.js';
import { entryImage, entryOfImage } from '../cache/entry-image.js';
import type { LayerCache } from '../cache/layer-cache.js';
import { writeOciLayoutTags } from './oci-layout-sink.js';
import { readOciLayoutImage } from './oci-layout-source.js';

/** Where the cache lives: the layout's directory (created by the first `put`). */
export interface OciLayoutLayerCacheOptions {
  dir: string;
}

/** The OCI layout at `dir` as a {@link LayerCache}. */
export function ociLayoutLayerCache(opts: OciLayoutLayerCacheOptions): LayerCache {
  const { dir } = opts;
  return {
    where: `oci:${dir}`,
    async get(key) {
      const tag = entryTag(key);
      // A tag is always a single manifest here: the platform is only consulted for an index.
      const image = await readOciLayoutImage(dir, tag);
      return image && entryOfImage(image, key, `oci:${dir}:${tag}`);
    },
    async closest(locator) {
      try {
        const image = await readOciLayoutImage(dir, locator);
        return keyOfAnnotations(image?.manifest.annotations);
      } catch {
        return undefined; // only explains a miss: an unreadable entry explains nothing
      }
    },
    async put(entry, signal) {
      await writeOciLayoutTags(dir, entryImage(entry), [entryTag(entry.key), entry.locator], signal);
    },
  };
}
