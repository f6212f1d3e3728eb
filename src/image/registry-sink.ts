/**
 * Pushes an image to one or more registry destinations: every blob first (skipped when the
 * registry has it, cross-mounted when it lives in another repository of the same registry),
 * then the manifests last, so a failure never leaves a half image under a tag (DESIGN.md §5).
 */
import type { Logger } from '../log.js';
import { imageDigest, type Image } from '../oci/image.js';
import { sha256Of, type Digest } from '../oci/digest.js';
import { formatReference, type Reference } from '../oci/reference.js';
import type { RegistryClient } from '../registry/client.js';
import { Readable } from 'node:stream';

async function pushBlobs(client: RegistryClient, image: Image, dest: Reference, logger: Logger, signal?: AbortSignal): Promise<void> {
  const { registry, repository } = dest;
  for (const layer of image.layers) {
    const { digest, size } = layer.descriptor;
    if (await client.hasBlob(registry, repository, digest, signal)) {
      logger.debug('layer already present', { destination: formatReference(dest), digest });
      continue;
    }
    const origin = layer.origin;
    if (origin && origin.registry === registry && origin.repository !== repository) {
      if (await client.mountBlob(registry, repository, digest, origin.repository, signal)) {
        logger.debug('layer mounted', { from: origin.repository, digest });
        continue;
      }
    }
    logger.debug('uploading layer', { destination: formatReference(dest), digest, size });
    await client.uploadBlob(registry, repository, { digest, size }, () => layer.open(signal), signal);
  }
  const configDigest = sha256Of(image.configBytes);
  if (!(await client.hasBlob(registry, repository, configDigest, signal))) {
    await client.uploadBlob(registry, repository, { digest: configDigest, size: image.configBytes.length }, async () => Readable.from([Buffer.from(image.configBytes)]), signal);
  }
}

/** Pushes `image` to every destination; returns the image digest. */
export async function pushImage(client: RegistryClient, image: Image, destinations: Reference[], logger: Logger, signal?: AbortSignal): Promise<Digest> {
  for (const dest of destinations) await pushBlobs(client, image, dest, logger, signal);
  const digest = imageDigest(image);
  for (const dest of destinations) {
    await client.putManifest(dest.registry, dest.repository, dest.tag ?? dest.digest ?? digest, image.manifestBytes, image.manifestMediaType, signal);
    logger.info(`pushed ${formatReference(dest)}`, { digest });
  }
  return digest;
}
