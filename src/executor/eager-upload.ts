/**
 * Pushing while building: each new layer of the target stage streams to the first destination
 * while it is compressed (registry/streaming-upload.ts), so a big layer's upload overlaps its
 * compression instead of starting after it. The push at the end then finds the blob there (or
 * mounts it into the other destinations' repositories) and only sends the manifest. Anything
 * that goes wrong here is logged and forgotten: the ordinary push uploads the blob again.
 *
 * Blobs sent early are not an image: no manifest is pushed unless the whole build succeeds.
 */
import type { LayerUpload } from '../layers/build-layer.js';
import { formatReference } from '../oci/reference.js';
import type { RegistryClient } from '../registry/client.js';
import type { StreamingUpload } from '../registry/streaming-upload.js';
import type { BuildEnv } from './build-env.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A source of {@link LayerUpload}s to the build's first destination, or undefined when nothing is pushed. */
export function eagerUploads(
  env: BuildEnv,
  client: RegistryClient,
): (() => Promise<LayerUpload | undefined>) | undefined {
  const dest = env.options.destinations[0];
  if (!env.options.push || !dest) return undefined;
  const { registry, repository } = dest;
  const where = formatReference(dest);
  const log = env.logger;
  return async () => {
    let started: StreamingUpload;
    try {
      started = await client.startStreamingUpload(registry, repository, env.signal);
    } catch (err) {
      if (env.signal.aborted) throw err;
      log.debug('cannot stream the new layer to the registry; it is pushed after the build', {
        destination: where,
        error: message(err),
      });
      return undefined;
    }
    return {
      input: started.input,
      async settle(blob, failure) {
        try {
          if (!blob || failure) throw failure ?? new Error('the layer was not built');
          await started.finish(blob.digest, blob.size);
          log.debug('layer uploaded while it was built', { destination: where, digest: blob.digest, size: blob.size });
          return { registry, repository };
        } catch (err) {
          if (blob)
            log.debug('streaming the new layer to the registry failed; it is pushed after the build', {
              destination: where,
              error: message(err),
            });
          if (!env.signal.aborted) await started.abort();
          return undefined;
        }
      },
    };
  };
}
