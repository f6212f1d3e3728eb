import type { Image } from '../oci/image.js';
import { assembleImage } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';

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
