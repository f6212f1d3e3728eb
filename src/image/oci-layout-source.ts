/**
 * Reads an image out of an OCI image layout (image-layout.md): `index.json` (read with a size
 * cap), the manifest named by its `org.opencontainers.image.ref.name` annotation (the tag of
 * `skopeo copy … oci:DIR:TAG` and of `ociLayoutSink`), following a nested index to a platform, and
 * the manifest and config blobs, each checked against its digest and size before it is trusted
 * (ARCHITECTURE.md §7). Layers are opened lazily and stream the blob file through `verifyDigest`,
 * so a blob that rotted on disk fails the read instead of feeding wrong bytes to a build. Used by
 * the OCI-layout layer cache and the warmer's base-image cache (issue 15).
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { errnoCode, fsError, IntegrityError } from '../errors.js';
import { digestHex, isDigest, sha256Of, type Digest } from '../oci/digest.js';
import type { Image, Layer } from '../oci/image.js';
import { isIndexMediaType, MediaType } from '../oci/media-types.js';
import { formatPlatform, platformMatches, type Platform } from '../oci/platform.js';
import { imageConfigSchema, indexSchema, manifestSchema, type Descriptor, type ImageIndex } from '../oci/schemas.js';
import { readAtMost } from '../stream/read-at-most.js';
import { verifyDigest } from '../stream/verify.js';
import type { ImageSource } from './image-source.js';

/** The annotation naming a manifest in a layout's index (image-layout.md, annotations.md). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Caps for the documents read whole: an index.json (a shared cache layout tags every entry twice,
 * about 500 bytes an entry, so a generous cap), a manifest or nested index, a config.
 */
const INDEX_LIMIT = 64 * 1024 * 1024;
const MANIFEST_LIMIT = 4 * 1024 * 1024;
const CONFIG_LIMIT = 8 * 1024 * 1024;

/** How deep nested indexes are followed before the layout counts as malformed. */
const MAX_NESTING = 4;

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new IntegrityError(`${what} is not valid JSON`);
  }
}

/** Reads at most `limit` bytes of `path`, or undefined when it does not exist. */
async function readSmallFile(path: string, limit: number, what: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(`reading ${what}`, err);
  }
  try {
    return await readAtMost(handle.createReadStream({ autoClose: false }), limit, what);
  } catch (err) {
    throw fsError(`reading ${what}`, err);
  } finally {
    await handle.close();
  }
}

/**
 * The index of the layout at `dir`, or undefined when it has none (no directory, no index.json).
 * A malformed one is an IntegrityError, or undefined with `ifMalformed: 'none'` (a writer
 * replaces an index nobody can read, as the sink always has); one past the size cap always throws.
 */
export async function readLayoutIndex(
  dir: string,
  opts: { ifMalformed: 'throw' | 'none' } = { ifMalformed: 'throw' },
): Promise<ImageIndex | undefined> {
  const what = `the index of the OCI layout ${dir}`;
  const bytes = await readSmallFile(join(dir, 'index.json'), INDEX_LIMIT, what);
  if (bytes === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseJson(bytes, what);
  } catch (err) {
    if (opts.ifMalformed === 'none') return undefined;
    throw err;
  }
  const parsed = indexSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  if (opts.ifMalformed === 'none') return undefined;
  throw new IntegrityError(`${what} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
}

/** The path of a blob of the layout at `dir`. */
export function layoutBlobPath(dir: string, digest: Digest): string {
  return join(dir, 'blobs', 'sha256', digestHex(digest));
}

/** Reads a small blob (manifest, index, config) whole and checks it against its descriptor. */
async function readSmallBlob(dir: string, desc: Descriptor, limit: number, what: string): Promise<Buffer> {
  if (!isDigest(desc.digest)) throw new IntegrityError(`${what} has an unsupported digest ${desc.digest}`);
  const bytes = await readSmallFile(layoutBlobPath(dir, desc.digest), limit, what);
  if (bytes === undefined) throw new IntegrityError(`${what}: the blob ${desc.digest} is missing from ${dir}`);
  if (bytes.length !== desc.size || sha256Of(bytes) !== desc.digest)
    throw new IntegrityError(`${what} does not match its digest ${desc.digest} (size ${desc.size})`);
  return bytes;
}

/** Whether a document is an index: by its descriptor's media type, else by its shape (umoci omits mediaType). */
function isIndexDocument(desc: Descriptor, doc: unknown): boolean {
  if (isIndexMediaType(desc.mediaType)) return true;
  return typeof doc === 'object' && doc !== null && 'manifests' in doc && !('config' in doc);
}

/** Picks the entry of `index` for `platform`; without a platform, the only entry. */
function selectEntry(index: ImageIndex, platform: Platform | undefined, what: string): Descriptor {
  if (platform === undefined) {
    const [only, ...more] = index.manifests;
    if (only !== undefined && more.length === 0) return only;
    throw new IntegrityError(`${what} is an index of ${index.manifests.length} images and no platform was asked for`);
  }
  const chosen = index.manifests.find((m) => m.platform !== undefined && platformMatches(platform, m.platform));
  if (chosen !== undefined) return chosen;
  const offered = index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : [])).join(', ');
  throw new IntegrityError(
    `${what} has no image for platform ${formatPlatform(platform)} (available: ${offered || 'none'})`,
  );
}

/** The layer of `digest` in the layout, streamed from its blob file and verified (digest and size) as it is read. */
function layoutLayer(dir: string, desc: Descriptor, digest: Digest, diffId: Digest, what: string): Layer {
  const path = layoutBlobPath(dir, digest);
  return {
    descriptor: { ...desc, digest },
    diffId,
    async open(signal?: AbortSignal): Promise<Readable> {
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (err) {
        throw errnoCode(err) === 'ENOENT'
          ? new IntegrityError(`${what}: the blob is missing from ${dir}`)
          : fsError(`reading ${what}`, err);
      }
      const file = handle.createReadStream(signal ? { signal } : {});
      return pipeline(file, verifyDigest({ digest, size: desc.size }, what), () => {});
    },
  };
}

/** The image of manifest `desc` (following nested indexes to `platform`). */
async function imageOf(dir: string, desc: Descriptor, platform: Platform | undefined, name: string): Promise<Image> {
  let current = desc;
  for (let depth = 0; ; depth++) {
    const what = `manifest ${current.digest} of ${name}`;
    const bytes = await readSmallBlob(dir, current, MANIFEST_LIMIT, what);
    const doc = parseJson(bytes, what);
    if (isIndexDocument(current, doc)) {
      if (depth >= MAX_NESTING) throw new IntegrityError(`${name}: indexes nested more than ${MAX_NESTING} deep`);
      const index = indexSchema.safeParse(doc);
      if (!index.success) throw new IntegrityError(`${what} is a malformed index: ${index.error.issues[0]?.message}`);
      current = selectEntry(index.data, platform, what);
      continue;
    }
    const parsed = manifestSchema.safeParse(doc);
    if (!parsed.success) throw new IntegrityError(`${what} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
    const manifest = parsed.data;
    const configBytes = await readSmallBlob(dir, manifest.config, CONFIG_LIMIT, `config of ${name}`);
    const cfg = imageConfigSchema.safeParse(parseJson(configBytes, `config of ${name}`));
    if (!cfg.success) throw new IntegrityError(`config of ${name} is malformed: ${cfg.error.issues[0]?.message ?? ''}`);
    const config = cfg.data;
    if (config.rootfs.diff_ids.length !== manifest.layers.length)
      throw new IntegrityError(
        `${name}: the manifest lists ${manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length} diff ids`,
      );
    const layers = manifest.layers.map((d, i) => {
      const diffId = config.rootfs.diff_ids[i] ?? '';
      if (!isDigest(d.digest) || !isDigest(diffId))
        throw new IntegrityError(`${name}: layer ${i + 1} has an unsupported digest ${d.digest}`);
      return layoutLayer(dir, d, d.digest, diffId, `layer ${d.digest} of ${name}`);
    });
    const mediaType = current.mediaType || manifest.mediaType || MediaType.ociManifest;
    return { manifest, manifestBytes: bytes, manifestMediaType: mediaType, config, configBytes, layers };
  }
}

/** The entry of `tag` in `index`: the last one, as a writer appends the newest. */
export function findTagged(index: ImageIndex, tag: string): Descriptor | undefined {
  for (let i = index.manifests.length - 1; i >= 0; i--) {
    const m = index.manifests[i];
    if (m?.annotations?.[REF_NAME] === tag) return m;
  }
  return undefined;
}

/**
 * The image tagged `tag` in the OCI layout at `dir`, or undefined when the layout or the tag does
 * not exist. An index that tags a nested index is followed to `platform` (without one, to its
 * only entry). Throws an IntegrityError when what is there is malformed or does not match its
 * digest; the layers are verified when opened.
 */
export async function readOciLayoutImage(dir: string, tag: string, platform?: Platform): Promise<Image | undefined> {
  const index = await readLayoutIndex(dir);
  const desc = index && findTagged(index, tag);
  if (desc === undefined) return undefined;
  return imageOf(dir, desc, platform, `oci:${dir}:${tag}`);
}

/** The OCI layout at `dir` as a source of images named by tag; a missing tag is an IntegrityError. */
export function ociLayoutSource(dir: string): ImageSource<string> {
  return {
    async resolve(tag, platform) {
      const image = await readOciLayoutImage(dir, tag, platform);
      if (image === undefined) throw new IntegrityError(`oci:${dir}:${tag}: no image is tagged ${tag} in the layout`);
      return image;
    },
  };
}
