/**
 * Where a built image goes (ARCHITECTURE.md §12): a registry, an OCI layout, a docker-archive
 * tarball. `executor/outputs.ts` writes the image to each sink the options ask for, in turn.
 */
import type { Digest } from '../oci/digest.js';
import type { Image } from '../oci/image.js';

/** What a sink did with an image. */
export interface SinkResult {
  /** The image's digest as written (the sha256 of its manifest bytes). */
  digest: Digest;
  /** The references the image was published under, for sinks that publish (registries). */
  pushed: readonly string[];
}

/** Writes a whole image to one place: the blobs, then what names the image (index, manifest). */
export interface ImageSink {
  write(image: Image, signal: AbortSignal): Promise<SinkResult>;
}
