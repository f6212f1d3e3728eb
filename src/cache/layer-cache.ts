/**
 * Where the layer cache keeps its entries (issue 15, ARCHITECTURE.md "Layer cache keys"): a
 * registry repository tagged by key (`image/registry-layer-cache.ts`) or a local OCI layout for
 * `--cache-repo oci:DIR` (`image/oci-layout-layer-cache.ts`). The stage builder
 * (`executor/stage-cache.ts`) looks steps up and stores what it built through this interface only.
 *
 * An entry is a small image: the step's layer (none when the step changed nothing), a config
 * holding the container config after the step and its creation time, and the key with its parts
 * as manifest annotations (cache/cache-entry.ts). It is tagged twice: by the key's hex
 * (`entryTag`), which lookups use, and by the step's locator (`locatorTag`, both in cache-entry.ts), which names the newest entry
 * made for the same instruction so a miss can say which input changed against it.
 */
import type { Layer } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';
import type { ContainerConfig } from '../oci/schemas.js';
import type { StepKey } from './step-key.js';

/** An entry found by a lookup. */
export interface CacheEntry {
  /** The key its annotations record (equal to the key looked up). */
  key: StepKey;
  /** The entry config's `created` (RFC 3339): the time the step was built, for `--cache-ttl`. */
  created: string | undefined;
  /**
   * The step's layer, absent when the step changed nothing. Its `open()` streams the blob from
   * the cache, failing with a digest error when the bytes are not what the descriptor names;
   * `origin` is set for a registry cache, so a push to the same registry mounts the blob.
   */
  layer?: Layer;
  /** The container config after the step (WORKDIR's WorkingDir is taken from it on a hit). */
  config: ContainerConfig;
}

/** What the stage builder stores after a step it built. */
export interface NewCacheEntry {
  key: StepKey;
  /** The step's locator tag (cache-entry.ts `locatorTag`): the newest entry for this instruction. */
  locator: string;
  platform: Platform;
  /** Now, as the build's clock tells it (never the --reproducible epoch: the TTL needs the real time). */
  created: string;
  /** The step's layer, its blob in the build's store; none when the step changed nothing. */
  layer?: Layer;
  config: ContainerConfig;
}

/** A layer cache: a registry repository or an OCI layout. */
export interface LayerCache {
  /** Where it is, for log lines: `registry/repo` or `oci:/dir`. */
  readonly where: string;
  /**
   * The entry tagged by `key`, or undefined when there is none. Throws when one is there but
   * unreadable (a manifest or config that does not match its digest, a refused request): the
   * caller counts that as a miss with a warning.
   */
  get(key: StepKey, signal: AbortSignal): Promise<CacheEntry | undefined>;
  /** The key of the newest entry stored under `locator`, for explaining a miss; undefined when none or unreadable. */
  closest(locator: string, signal: AbortSignal): Promise<StepKey | undefined>;
  /**
   * Stores an entry: blobs first, then the manifest under both tags. Safe to call concurrently,
   * from this build and from other builds sharing the cache.
   */
  put(entry: NewCacheEntry, signal: AbortSignal): Promise<void>;
}
