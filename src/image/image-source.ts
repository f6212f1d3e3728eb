/**
 * Where an image comes from (ARCHITECTURE.md §12): a registry, an earlier stage of the build,
 * or `FROM scratch`. Each kind of source names its images its own way (`Ref`): a registry by an
 * image reference, a stage by its index, scratch by the word itself.
 */
import type { Image } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';

/** Resolves what `ref` names into an {@link Image}: manifest and config read, layers opened only when used. */
export interface ImageSource<Ref> {
  resolve(ref: Ref, platform: Platform, signal: AbortSignal): Promise<Image>;
}
