/**
 * The layer cache in a registry repository (`--cache-repo REGISTRY/REPO`, else the first
 * destination's repository + `/cache`, as Kaniko does; issue 15). Each entry is a small, valid
 * image (cache/entry-image.ts) tagged `REPO:<key hex>`, as Kaniko tags `CACHE_REPO:<key>`, and
 * `REPO:<locator>`, the newest entry of the same step, which a miss compares its key with.
 *
 * Reading goes through the registry source (registry-source.ts): the manifest, the config read
 * with a size cap and checked against its digest, and a layer that streams through
 * `verifyDigest` when opened and carries its `origin`, so a push to another repository of the
 * same registry mounts the blob instead of downloading it. Writing goes through the registry
 * sink's pusher (registry-sink.ts): blobs first (HEAD, then a mount from the layer's origin, then
 * an upload), the manifest last under both tags, so a tag never names half an entry and two
 * builds pushing at once each leave whole entries.
 */
import { RegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import { entryTag, keyOfAnnotations } from '../cache/cache-entry.js';
import { entryImage, entryOfImage } from '../cache/entry-image.js';
import type { LayerCache } from '../cache/layer-cache.js';
import { manifestSchema } from '../oci/schemas.js';
import { parseReference, type Reference } from '../oci/reference.js';
import type { RegistryClient } from '../registry/client.js';
import { resolveRegistryImage } from './registry-source.js';
import { pushImage } from './registry-sink.js';

/** Where the cache lives and how to reach it. */
export interface RegistryLayerCacheOptions {
  /** A client that may push there: the build's push client (credentials, --insecure, --registry-certificate). */
  client: RegistryClient;
  /** `host[:port]/path/repo`, as cache-options.ts gives it. */
  repository: string;
  logger: Logger;
}

/**
 * The platform handed to the registry source, which only consults it for an index: an entry is
 * always a single manifest, and anything else under its tag fails `entryOfImage`.
 */
const ANY_PLATFORM = { os: 'linux', architecture: 'amd64' };

/** Whether a failed manifest GET says the tag is not there (404, MANIFEST_UNKNOWN, NAME_UNKNOWN). */
function isNotFound(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  const codes = err.details.codes ?? [];
  return err.details.status === 404 || codes.includes('MANIFEST_UNKNOWN') || codes.includes('NAME_UNKNOWN');
}

/** The cache's push logger: the sink's `pushed …` lines are detail for a cache entry, so info goes to debug. */
function quieter(logger: Logger): Logger {
  return { ...logger, info: (msg, fields) => logger.debug(msg, fields) };
}

/** The registry repository `opts.repository` as a {@link LayerCache}. */
export function registryLayerCache(opts: RegistryLayerCacheOptions): LayerCache {
  const { client, logger } = opts;
  const parsed = parseReference(opts.repository);
  const repo = { registry: parsed.registry, repository: parsed.repository };
  const at = (tag: string): Reference => ({ ...repo, tag });
  const where = `${repo.registry}/${repo.repository}`;
  return {
    where,
    async get(key, signal) {
      const tag = entryTag(key);
      let image;
      try {
        image = await resolveRegistryImage({ client, logger, ref: at(tag), platform: ANY_PLATFORM, signal });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      return entryOfImage(image, key, `${where}:${tag}`);
    },
    async closest(locator, signal) {
      try {
        // The manifest alone holds the key: no config or layer is fetched to explain a miss.
        const got = await client.getManifest(at(locator), signal);
        const manifest = manifestSchema.safeParse(JSON.parse(got.bytes.toString('utf8')));
        return manifest.success ? keyOfAnnotations(manifest.data.annotations) : undefined;
      } catch {
        return undefined;
      }
    },
    async put(entry, signal) {
      await pushImage({
        client,
        logger: quieter(logger),
        destinations: [at(entryTag(entry.key)), at(entry.locator)],
        image: entryImage(entry),
        signal,
      });
    },
  };
}
