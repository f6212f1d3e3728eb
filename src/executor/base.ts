/**
 * Brings a stage's base image into its rootfs: each layer is pulled into the blob store
 * (streamed and verified against its digest), then decompressed, checked against its diff_id
 * and extracted from there, in one pass. The returned image's layers read from the store, so
 * sinks never download a base layer twice.
 */
import type { BlobStore } from '../cache/blob-store.js';
import { IntegrityError } from '../errors.js';
import { extractLayer, type ExtractOptions } from '../layers/extract.js';
import type { Logger } from '../log.js';
import { isDigest } from '../oci/digest.js';
import type { Image, Layer } from '../oci/image.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { retryOperation, type SleepFn } from '../registry/index.js';

/** Host helpers and content identities for extraction (see `executor/stage-layers.ts` `extraction`). */
export type ExtractionHelpers = Omit<ExtractOptions, 'layerName' | 'logger' | 'signal' | 'diffId'>;

/** Where {@link unpackBase} names, stores and extracts a base image. */
export interface UnpackBaseOptions {
  /** The image's name in messages: its reference, or the stage it comes from. */
  imageName: string;
  /** The blob store the layers are pulled into and extracted from. */
  store: BlobStore;
  logger: Logger;
  signal: AbortSignal;
  /** Host helpers and content identities for extraction; none by default. */
  helpers?: ExtractionHelpers;
  /**
   * `--image-fs-extract-retry`: how often a layer's pull is tried again from the start (backoff
   * 1 s, 2 s, 4 s…) after a failure that may clear up, once its requests' own retries are spent.
   */
  pullRetries?: { retries: number; sleep: SleepFn };
}

/**
 * Pulls and extracts `image` (named `opts.imageName` in messages) into `rootfs`. Every extraction checks the layer against the config's diff_id,
 * also when the blob was already in the store (fetched for another stage or another image
 * whose config may tell the truth where this one lies); hashing costs far less than the
 * decompression it rides along with.
 */
export async function unpackBase(image: Image, rootfs: Rootfs, opts: UnpackBaseOptions): Promise<Image> {
  const { imageName, store, logger, signal, helpers = {}, pullRetries } = opts;
  // Sources refuse a config whose diff_ids do not pair with the layers (image/registry-source.ts).
  const diffIds = image.config.rootfs.diff_ids;
  const layers: Layer[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const { digest, size } = layer.descriptor;
    const name = `layer ${i + 1}/${image.layers.length} (${digest}) of ${imageName}`;
    // One download per blob, however many concurrent stages start from the same base.
    const pull = (): Promise<unknown> =>
      store.fetch(
        { digest, size },
        () => {
          logger.info(`pulling ${name}`, { size });
          return layer.open(signal);
        },
        name,
        signal,
      );
    if (pullRetries && pullRetries.retries > 0) {
      const onRetry = (reason: string, waitMs: number, attempt: number): void =>
        logger.warn(`retrying in ${waitMs} ms (--image-fs-extract-retry): ${reason}`, { layer: digest, attempt });
      await retryOperation({ retries: pullRetries.retries, sleep: pullRetries.sleep, signal, onRetry }, pull);
    } else await pull();
    logger.debug(`extracting ${name}`);
    // The config's own diff_id: it is what the new image's config repeats.
    const diffId = diffIds[i];
    if (diffId === undefined || !isDigest(diffId))
      throw new IntegrityError(`${name}: the config's diff_id ${JSON.stringify(diffId)} is not a sha256 digest`);
    await extractLayer(rootfs, store.open(digest), { ...helpers, layerName: name, logger, signal, diffId });
    layers.push({ ...layer, open: async () => store.open(digest) });
  }
  return { ...image, layers };
}
