import type { Image } from '../oci/image.js';
import { assembleImage } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';
import type { ImageSource } from './image-source.js';

/** `FROM scratch`: no layers, an empty config for the target platform. */
export function scratchImage(platform: Platform): Image {
  return assembleImage(
    {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
      history: [],
    },
    [],
  );
}

/** `FROM scratch` as a source: the empty image of the platform asked for. */
export const scratchSource: ImageSource<'scratch'> = {
  resolve: async (_ref, platform) => scratchImage(platform),
};
