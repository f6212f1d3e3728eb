/**
 * Pulls an image's manifest and config from a registry and describes its layers, whose bytes
 * are only fetched when opened — streamed (resumed after a dropped connection) and verified
 * against their digests, never buffered. A {@link PullPolicy} adds Kaniko's pull behaviour:
 * mirrors tried in order (`--registry-mirror`, `--registry-map`) with fallback to the original
 * registry unless `--skip-default-registry-fallback`, and `--image-download-retry`.
 */
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { IntegrityError, RegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import { isDigest, sha256Of, type Digest } from '../oci/digest.js';
import type { Image, Layer } from '../oci/image.js';
import { isIndexMediaType } from '../oci/media-types.js';
import { formatPlatform, platformMatches, type Platform } from '../oci/platform.js';
import { formatReference, remapReference, type MirrorTarget, type Reference } from '../oci/reference.js';
import { imageConfigSchema, indexSchema, manifestSchema, type ImageConfig } from '../oci/schemas.js';
import type { RegistryClient } from '../registry/client.js';
import { retryOperation, type SleepFn } from '../registry/index.js';
import { readAtMost } from '../stream/read-at-most.js';
import { verifyDigest } from '../stream/verify.js';
import type { ImageSource } from './image-source.js';

const CONFIG_LIMIT = 8 * 1024 * 1024;

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new IntegrityError(`${what} is not valid JSON`);
  }
}

/** An index without the wanted platform: a registry error (exit 4), but retrying will not help. */
class PlatformNotFoundError extends RegistryError {}

/** Picks the manifest for `platform` from an index, or fails listing what the index offers. */
function selectFromIndex(ref: Reference, bytes: Uint8Array, platform: Platform): Digest {
  const parsed = indexSchema.safeParse(parseJson(bytes, `index of ${formatReference(ref)}`));
  if (!parsed.success)
    throw new IntegrityError(`index of ${formatReference(ref)} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  const entries = parsed.data.manifests.filter((m) => m.platform);
  const chosen = entries.find((m) => m.platform && platformMatches(platform, m.platform));
  if (!chosen || !isDigest(chosen.digest)) {
    const offered = entries.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
    throw new PlatformNotFoundError(
      `${formatReference(ref)} has no image for platform ${formatPlatform(platform)} (available: ${offered || 'none'})`,
      {
        registry: ref.registry,
        repository: ref.repository,
      },
    );
  }
  return chosen.digest;
}

/** Resolves `ref` (following an index to `platform`) into an Image whose layers stream from the registry. */
async function resolveOnce(from: RegistryPull, ref: Reference): Promise<Image> {
  const { client, platform, logger, signal } = from;
  let got = await client.getManifest(ref, signal);
  if (isIndexMediaType(got.mediaType)) {
    const digest = selectFromIndex(ref, got.bytes, platform);
    logger.debug(`selected ${formatPlatform(platform)} from index`, { image: formatReference(ref), digest });
    got = await client.getManifest({ registry: ref.registry, repository: ref.repository, digest }, signal);
  }
  const name = formatReference(ref);
  const parsed = manifestSchema.safeParse(parseJson(got.bytes, `manifest of ${name}`));
  if (!parsed.success)
    throw new IntegrityError(`manifest of ${name} is not an image manifest: ${parsed.error.issues[0]?.message ?? ''}`);
  const manifest = parsed.data;
  const cfgDesc = manifest.config;
  if (!isDigest(cfgDesc.digest))
    throw new IntegrityError(`manifest of ${name} has an unsupported config digest ${cfgDesc.digest}`);
  const configBody = await client.getBlob(
    ref.registry,
    ref.repository,
    { digest: cfgDesc.digest, size: cfgDesc.size },
    signal,
  );
  const configBytes = await readAtMost(configBody, CONFIG_LIMIT, `config of ${name}`);
  if (sha256Of(configBytes) !== cfgDesc.digest)
    throw new IntegrityError(`config of ${name} does not match its digest ${cfgDesc.digest}`);
  const cfg = imageConfigSchema.safeParse(parseJson(configBytes, `config of ${name}`));
  if (!cfg.success) throw new IntegrityError(`config of ${name} is malformed: ${cfg.error.issues[0]?.message ?? ''}`);
  const config: ImageConfig = cfg.data;
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new IntegrityError(
      `${name}: the manifest lists ${manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length} diff ids`,
    );
  }
  const layers: Layer[] = manifest.layers.map((d, i) => {
    const diffId = config.rootfs.diff_ids[i] ?? '';
    if (!isDigest(d.digest) || !isDigest(diffId))
      throw new IntegrityError(`${name}: layer ${i + 1} has an unsupported digest ${d.digest}`);
    const digest = d.digest;
    const what = `layer ${digest} of ${name}`;
    return {
      descriptor: { ...d, digest },
      diffId,
      origin: { registry: ref.registry, repository: ref.repository },
      async open(sig?: AbortSignal): Promise<Readable> {
        const body = await client.getBlob(ref.registry, ref.repository, { digest, size: d.size }, sig);
        return pipeline(body, verifyDigest({ digest, size: d.size }, what), () => {});
      },
    };
  });
  return { manifest, manifestBytes: got.bytes, manifestMediaType: got.mediaType, config, configBytes, layers };
}

/** How base images are pulled (Kaniko's pull flags); without one, `ref` is pulled once, as named. */
export interface PullPolicy {
  /** Mirrors of a registry, tried in order before the registry itself. */
  mirrors: (registry: string) => readonly MirrorTarget[];
  /** When every mirror failed, fail instead of pulling from the registry itself. */
  skipDefaultFallback: boolean;
  /** Retries of resolving the image (manifest and config) on a transient failure. */
  retries: number;
  /** Waits between retries (1 s, 2 s, 4 s… or the registry's Retry-After); injectable so tests never sleep. */
  sleep: SleepFn;
}

/** Where and how to pull (Kaniko's pull flags). */
export interface PullFrom {
  client: RegistryClient;
  logger: Logger;
  /** Without one, the reference is pulled once, as named. */
  policy?: PullPolicy | undefined;
}

/** One image's pull: the source, the platform wanted and the abort signal. */
interface RegistryPull extends PullFrom {
  platform: Platform;
  signal?: AbortSignal | undefined;
}

/** `resolveOnce` with `--image-download-retry`: Kaniko's `RetryWithResult(…, ImageDownloadRetry, 1000)`. */
function resolveWithRetries(from: RegistryPull, policy: PullPolicy, ref: Reference): Promise<Image> {
  const onRetry = (reason: string, waitMs: number, attempt: number): void =>
    from.logger.warn(`retrying in ${waitMs} ms: ${reason}`, { image: formatReference(ref), attempt });
  const isFinal = (err: unknown): boolean => err instanceof PlatformNotFoundError;
  return retryOperation({ retries: policy.retries, sleep: policy.sleep, signal: from.signal, onRetry, isFinal }, () =>
    resolveOnce(from, ref),
  );
}

/**
 * Resolves `ref` into an Image whose layers stream from the registry that served it. With a
 * policy, each mirror of `ref.registry` is tried first (same repository path, under the mirror's
 * prefix); a mirror that fails for any reason is logged and the next one tried, then the
 * registry itself unless the policy skips that fallback (Kaniko's `RetrieveRemoteImage`).
 */
export async function resolveRegistryImage(
  opts: PullFrom & { ref: Reference; platform: Platform; signal?: AbortSignal | undefined },
): Promise<Image> {
  const { ref, policy, logger, signal } = opts;
  if (policy === undefined) return resolveOnce(opts, ref);
  const mirrors = policy.mirrors(ref.registry);
  for (const mirror of mirrors) {
    const mapped = remapReference(ref, mirror);
    logger.info(`retrieving image ${formatReference(mapped)} from mirror ${mirror.registry}`);
    try {
      return await resolveWithRetries(opts, policy, mapped);
    } catch (err) {
      if (signal?.aborted || !(err instanceof RegistryError || err instanceof IntegrityError)) throw err;
      logger.warn(
        `could not pull ${formatReference(mapped)} from mirror ${mirror.registry}: ${err.message}; trying the next mirror, or ${ref.registry}`,
      );
    }
  }
  if (mirrors.length > 0 && policy.skipDefaultFallback) {
    throw new RegistryError(
      `${formatReference(ref)}: not found on any mirror of ${ref.registry} (${mirrors.map((m) => m.registry + (m.prefix ? `/${m.prefix}` : '')).join(', ')})`,
      { registry: ref.registry, repository: ref.repository },
      {
        hint: 'the mirrors failed (see the warnings above); without --skip-default-registry-fallback Kiln would pull from the original registry',
      },
    );
  }
  return resolveWithRetries(opts, policy, ref);
}

/** A registry (with its mirrors and retries) as a source of images named by reference. */
export function registrySource(from: PullFrom): ImageSource<Reference> {
  return { resolve: (ref, platform, signal) => resolveRegistryImage({ ...from, ref, platform, signal }) };
}
