/**
 * Brings a stage's base image into its rootfs: each layer is pulled into the blob store
 * (streamed and verified against its digest), then decompressed and extracted from there. The
 * returned image's layers read from the store, so sinks never download a base layer twice.
 */
import type { BlobStore } from '../cache/blob-store.js';
import { extractLayer, type ExtractOptions } from '../layers/extract.js';
import type { Logger } from '../log.js';
import type { Image, Layer } from '../oci/image.js';
import type { Rootfs } from '../rootfs/rootfs.js';

/** Host helpers and content identities for extraction (see `layers/stage-layers.ts` `extraction`). */
export type ExtractionHelpers = Omit<ExtractOptions, 'layerName' | 'logger' | 'signal'>;

export async function unpackBase(image: Image, rootfs: Rootfs, store: BlobStore, logger: Logger, signal: AbortSignal, helpers: ExtractionHelpers = {}): Promise<Image> {
  const layers: Layer[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const { digest, size } = layer.descriptor;
    const name = `layer ${i + 1}/${image.layers.length} (${digest})`;
    // One download per blob, however many concurrent stages start from the same base.
    await store.fetch({ digest, size }, () => {
      logger.info(`pulling ${name}`, { size });
      return layer.open(signal);
    }, name, signal);
    logger.debug(`extracting ${name}`);
    await extractLayer(rootfs, store.open(digest), { ...helpers, layerName: name, logger, signal });
    layers.push({ ...layer, open: async () => store.open(digest) });
  }
  return { ...image, layers };
}
