/**
 * The core values: a {@link Layer} is a descriptor plus a way to open its compressed bytes; an
 * {@link Image} is an immutable manifest + config with its layers. No method returns a whole
 * layer in memory.
 */
import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import { sha256Of } from './digest.js';
import { MediaType } from './media-types.js';
import type { Descriptor, ImageConfig, Manifest } from './schemas.js';

/** Where a layer's bytes can be had from without downloading, used by sinks to mount or skip. */
export interface LayerOrigin {
  /** `registry` host and `repository` the blob is known to exist in. */
  registry: string;
  repository: string;
}

export interface Layer {
  descriptor: Descriptor & { digest: Digest };
  /** sha256 of the uncompressed tar: the config's `rootfs.diff_ids` entry. */
  diffId: Digest;
  /** Where the blob already lives in a registry, if anywhere (enables HEAD/mount instead of upload). */
  origin?: LayerOrigin;
  /** A fresh stream of the compressed bytes, as described by `descriptor`. */
  open(signal?: AbortSignal): Promise<Readable>;
}

export interface Image {
  manifest: Manifest;
  /** The exact manifest bytes; its digest is the image digest. */
  manifestBytes: Uint8Array;
  manifestMediaType: string;
  config: ImageConfig;
  configBytes: Uint8Array;
  layers: Layer[];
}

/** The digest of an image: the sha256 of its manifest bytes. */
export function imageDigest(image: Image): Digest {
  return sha256Of(image.manifestBytes);
}

/**
 * Serialises config and manifest (OCI media types) for a config and its layers; the one way Kiln
 * makes an Image. `annotations` go into the manifest (a layer cache entry's key, issue 15).
 */
export function assembleImage(config: ImageConfig, layers: Layer[], annotations?: Record<string, string>): Image {
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Of(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({
      mediaType: ociLayerMediaType(l.descriptor.mediaType),
      digest: l.descriptor.digest,
      size: l.descriptor.size,
    })),
    ...(annotations === undefined ? {} : { annotations }),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, manifestBytes, manifestMediaType: MediaType.ociManifest, config, configBytes, layers };
}

/** Docker layer media types renamed to their OCI equivalents (same bytes, same digest), since Kiln writes OCI manifests. */
export function ociLayerMediaType(mt: string): string {
  if (mt === MediaType.dockerLayerGzip) return MediaType.ociLayerGzip;
  return mt;
}
