/**
 * Pulls an image's manifest and config from a registry and describes its layers, whose bytes
 * are only fetched when opened — streamed and verified against their digests, never buffered.
 */
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { IntegrityError, RegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import { isDigest, sha256Of, type Digest } from '../oci/digest.js';
import type { Image, Layer } from '../oci/image.js';
import { isIndexMediaType } from '../oci/media-types.js';
import { formatPlatform, platformMatches, type Platform } from '../oci/platform.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { imageConfigSchema, indexSchema, manifestSchema, type ImageConfig } from '../oci/schemas.js';
import type { RegistryClient } from '../registry/client.js';
import { readAtMost } from '../stream/read-at-most.js';
import { verifyDigest } from '../stream/verify.js';

const CONFIG_LIMIT = 8 * 1024 * 1024;

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new IntegrityError(`${what} is not valid JSON`);
  }
}

/** Picks the manifest for `platform` from an index, or fails listing what the index offers. */
function selectFromIndex(ref: Reference, bytes: Uint8Array, platform: Platform): Digest {
  const parsed = indexSchema.safeParse(parseJson(bytes, `index of ${formatReference(ref)}`));
  if (!parsed.success) throw new IntegrityError(`index of ${formatReference(ref)} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  const entries = parsed.data.manifests.filter((m) => m.platform);
  const chosen = entries.find((m) => m.platform && platformMatches(platform, m.platform));
  if (!chosen || !isDigest(chosen.digest)) {
    const offered = entries.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
    throw new RegistryError(`${formatReference(ref)} has no image for platform ${formatPlatform(platform)} (available: ${offered || 'none'})`, {
      registry: ref.registry,
      repository: ref.repository,
    });
  }
  return chosen.digest;
}

/** Resolves `ref` (following an index to `platform`) into an Image whose layers stream from the registry. */
export async function resolveRegistryImage(client: RegistryClient, ref: Reference, platform: Platform, logger: Logger, signal?: AbortSignal): Promise<Image> {
  let got = await client.getManifest(ref, signal);
  if (isIndexMediaType(got.mediaType)) {
    const digest = selectFromIndex(ref, got.bytes, platform);
    logger.debug(`selected ${formatPlatform(platform)} from index`, { image: formatReference(ref), digest });
    got = await client.getManifest({ registry: ref.registry, repository: ref.repository, digest }, signal);
  }
  const name = formatReference(ref);
  const parsed = manifestSchema.safeParse(parseJson(got.bytes, `manifest of ${name}`));
  if (!parsed.success) throw new IntegrityError(`manifest of ${name} is not an image manifest: ${parsed.error.issues[0]?.message ?? ''}`);
  const manifest = parsed.data;
  const cfgDesc = manifest.config;
  if (!isDigest(cfgDesc.digest)) throw new IntegrityError(`manifest of ${name} has an unsupported config digest ${cfgDesc.digest}`);
  const configBytes = await readAtMost(await client.getBlob(ref.registry, ref.repository, cfgDesc.digest, signal), CONFIG_LIMIT, `config of ${name}`);
  if (sha256Of(configBytes) !== cfgDesc.digest) throw new IntegrityError(`config of ${name} does not match its digest ${cfgDesc.digest}`);
  const cfg = imageConfigSchema.safeParse(parseJson(configBytes, `config of ${name}`));
  if (!cfg.success) throw new IntegrityError(`config of ${name} is malformed: ${cfg.error.issues[0]?.message ?? ''}`);
  const config: ImageConfig = cfg.data;
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new IntegrityError(`${name}: the manifest lists ${manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length} diff ids`);
  }
  const layers: Layer[] = manifest.layers.map((d, i) => {
    const diffId = config.rootfs.diff_ids[i] ?? '';
    if (!isDigest(d.digest) || !isDigest(diffId)) throw new IntegrityError(`${name}: layer ${i + 1} has an unsupported digest ${d.digest}`);
    const digest = d.digest;
    const what = `layer ${digest} of ${name}`;
    return {
      descriptor: { ...d, digest },
      diffId,
      origin: { registry: ref.registry, repository: ref.repository },
      async open(sig?: AbortSignal): Promise<Readable> {
        const body = await client.getBlob(ref.registry, ref.repository, digest, sig);
        return pipeline(body, verifyDigest({ digest, size: d.size }, what), () => {});
      },
    };
  });
  return { manifest, manifestBytes: got.bytes, manifestMediaType: got.mediaType, config, configBytes, layers };
}
