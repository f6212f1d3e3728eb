/**
 * A LayerCache in memory, for in-process tests of the stage builder's cache logic (hits, misses,
 * chaining, corrupt entries): the real stores (registry, OCI layout) have their own tests against
 * a real registry and real layouts. Layer bytes are kept whole here: test layers are tiny.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { entryTag } from '../../src/cache/cache-entry.js';
import type { CacheEntry, LayerCache, NewCacheEntry } from '../../src/cache/layer-cache.js';
import type { StepKey } from '../../src/cache/step-key.js';

interface Stored {
  entry: NewCacheEntry;
  bytes?: Buffer;
}

export class MemoryLayerCache implements LayerCache {
  readonly where = 'memory';
  readonly entries = new Map<string, Stored>();
  readonly locators = new Map<string, StepKey>();
  /** Layer blobs read from the cache (a hit brought into a rootfs or an output). */
  reads = 0;

  async get(key: StepKey): Promise<CacheEntry | undefined> {
    const got = this.entries.get(entryTag(key));
    if (!got) return undefined;
    const { entry, bytes } = got;
    const layer = entry.layer;
    return {
      key: entry.key,
      created: entry.created,
      config: entry.config,
      ...(layer && bytes
        ? {
            layer: {
              descriptor: layer.descriptor,
              diffId: layer.diffId,
              open: () => {
                this.reads++;
                return Promise.resolve(Readable.from([bytes]));
              },
            },
          }
        : {}),
    };
  }

  closest(locator: string): Promise<StepKey | undefined> {
    return Promise.resolve(this.locators.get(locator));
  }

  async put(entry: NewCacheEntry, signal: AbortSignal): Promise<void> {
    const bytes = entry.layer ? await buffer(await entry.layer.open(signal)) : undefined;
    this.entries.set(entryTag(entry.key), { entry, ...(bytes ? { bytes } : {}) });
    this.locators.set(entry.locator, entry.key);
  }

  /** Replaces the bytes of every stored layer whose entry's step matched `pick` (same length, other content). */
  corrupt(pick: (e: NewCacheEntry) => boolean): number {
    let n = 0;
    for (const s of this.entries.values()) {
      if (!s.bytes || !pick(s.entry)) continue;
      s.bytes = Buffer.from(s.bytes.map((b) => b ^ 0xff));
      n++;
    }
    return n;
  }

  /** Makes every entry `ms` older. */
  age(ms: number): void {
    for (const s of this.entries.values()) s.entry.created = new Date(Date.parse(s.entry.created) - ms).toISOString();
  }
}
