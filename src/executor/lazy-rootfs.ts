/**
 * A stage's rootfs brought up to date only when a step needs it (issue 15): with the layer cache
 * on, a stage whose steps all come from the cache never downloads or extracts its base or the
 * cached layers, and a stage that misses late extracts them only then. Kaniko extracts the base
 * whenever a command needs the filesystem ("Skipping unpacking as no commands require it").
 *
 * A cached layer is fetched into the build's blob store first, verified against its digest, and
 * extracted from there, so a corrupt entry is found before any of its bytes reach the rootfs:
 * {@link LazyRootfs.bring} then says which one, and the stage builds that step instead.
 */
import type { BlobStore } from '../cache/blob-store.js';
import { extractLayer } from '../layers/extract.js';
import type { Image, Layer } from '../oci/image.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { unpackBase, type UnpackBaseOptions } from './base.js';
import type { StageLayers } from './stage-layers.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A layer that reads from the build's store once the blob is there, else from where it came from. */
export function preferStore(layer: Layer, store: BlobStore): Layer {
  const digest = layer.descriptor.digest;
  return { ...layer, open: async (signal) => ((await store.has(digest)) ? store.open(digest) : layer.open(signal)) };
}

/** A cached layer waiting to be brought into the rootfs, with its name in messages. */
export interface PendingLayer {
  layer: Layer;
  name: string;
}

/** What {@link LazyRootfs} needs. */
export interface LazyRootfsOptions extends Omit<UnpackBaseOptions, 'helpers'> {
  rootfs: Rootfs;
  base: Image;
  layers: StageLayers;
}

/** A stage's rootfs, its base extracted on first need, cached layers after it (see the module comment). */
export class LazyRootfs {
  private baseIn = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: LazyRootfsOptions) {}

  /** The base image, its layers reading from the store once pulled. */
  get base(): Image {
    return { ...this.o.base, layers: this.o.base.layers.map((l) => preferStore(l, this.o.store)) };
  }

  /**
   * Brings the base (the first time) and then `pending`, in order, into the rootfs. Resolves the
   * index in `pending` of the first layer whose blob could not be had or verified (those before
   * it are in the rootfs), or undefined when all are in. Calls run one after another.
   */
  bring(pending: readonly PendingLayer[]): Promise<number | undefined> {
    const run = this.queue.then(() => this.bringNow(pending));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Fetches `pending` into the store, verified, without extracting; the index of the first that failed. */
  async fetch(pending: readonly PendingLayer[]): Promise<number | undefined> {
    const got = await Promise.all(pending.map((p) => this.fetchOne(p)));
    const bad = got.indexOf(false);
    return bad < 0 ? undefined : bad;
  }

  private async bringNow(pending: readonly PendingLayer[]): Promise<number | undefined> {
    const { rootfs, store, logger, signal, layers } = this.o;
    const first = !this.baseIn;
    if (first) {
      await unpackBase(this.o.base, rootfs, { ...this.o, helpers: layers.extraction });
      this.baseIn = true;
    }
    let bad: number | undefined;
    for (const [i, p] of pending.entries()) {
      if (!(await this.fetchOne(p))) {
        bad = i;
        break;
      }
      const { digest } = p.layer.descriptor;
      logger.debug(`extracting ${p.name}`);
      await extractLayer(rootfs, store.open(digest), {
        ...layers.extraction,
        layerName: p.name,
        logger,
        signal,
        diffId: p.layer.diffId,
      });
    }
    if (first) await layers.start();
    else if (pending.length > 0) await layers.extracted();
    return bad;
  }

  /** Whether the layer's blob is in the store now, verified; a failure is a warning. */
  private async fetchOne(p: PendingLayer): Promise<boolean> {
    const { store, logger, signal } = this.o;
    const { digest, size } = p.layer.descriptor;
    try {
      await store.fetch({ digest, size }, () => p.layer.open(signal), p.name, signal);
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      // The store's error names the layer and what was wrong with it.
      logger.warn(`${message(err)}; building the step instead of using the cache`);
      return false;
    }
  }
}
