/**
 * A layer cache entry as an image and back (issue 15), PURE: both stores (a registry repository,
 * an OCI layout) keep an entry as a small, valid image — the step's layer (or none), a config
 * holding the container config after the step and the time it was built, and the key with its
 * parts as manifest annotations (cache-entry.ts). Kaniko stores its cached layers as images
 * tagged by key too (`CACHE_REPO:<key>`), so registries, skopeo and garbage collectors treat them
 * like any image.
 */
import { IntegrityError } from '../errors.js';
import { assembleImage, type Image } from '../oci/image.js';
import type { ImageConfig } from '../oci/schemas.js';
import { entryAnnotations, keyOfAnnotations } from './cache-entry.js';
import type { CacheEntry, NewCacheEntry } from './layer-cache.js';
import type { StepKey } from './step-key.js';

/** The history's `created_by` of an entry image, naming what it is to anyone who inspects it. */
export const ENTRY_CREATED_BY = 'kiln layer cache entry';

/** The image that stores `entry`: its layer (if any), its config, its key as manifest annotations. */
export function entryImage(entry: NewCacheEntry): Image {
  const { platform, created, layer } = entry;
  const config: ImageConfig = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: entry.config,
    rootfs: { type: 'layers', diff_ids: layer ? [layer.diffId] : [] },
    history: [{ created, created_by: ENTRY_CREATED_BY, ...(layer ? {} : { empty_layer: true }) }],
  };
  return assembleImage(config, layer ? [layer] : [], entryAnnotations(entry.key));
}

/**
 * The entry an image read from a cache stores. `wanted` is the key looked up: an image that
 * records another key, none (another tool's image under the tag), or more than one layer is an
 * IntegrityError, which the caller counts as a miss with a warning.
 */
export function entryOfImage(
  image: Pick<Image, 'manifest' | 'config' | 'layers'>,
  wanted: StepKey,
  where: string,
): CacheEntry {
  const key = keyOfAnnotations(image.manifest.annotations);
  if (key === undefined) throw new IntegrityError(`${where} is not a Kiln layer cache entry (no key annotation)`);
  if (key.digest !== wanted.digest)
    throw new IntegrityError(`${where} records the key ${key.digest}, not the ${wanted.digest} it is tagged with`);
  if (image.layers.length > 1)
    throw new IntegrityError(`${where} has ${image.layers.length} layers; a cache entry has at most one`);
  const [layer] = image.layers;
  return {
    key,
    created: image.config.created,
    ...(layer === undefined ? {} : { layer }),
    config: image.config.config ?? {},
  };
}
