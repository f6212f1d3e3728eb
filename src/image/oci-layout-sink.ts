/**
 * Writes an image as an OCI image layout (image-layout.md): `oci-layout`, `index.json` naming
 * the manifest (with `org.opencontainers.image.ref.name` so `umoci` and `skopeo oci:DIR:TAG`
 * find it), and every blob under `blobs/sha256/`. Blobs stream to disk; an existing layout
 * keeps its other images, and an entry with the same tag is replaced.
 *
 * Several writers may share one layout (issue 15: concurrent builds with `--cache-repo oci:DIR`):
 * every file is written under a name of its own (a random suffix) and renamed into place, so no
 * reader or other writer ever sees half a blob; a layer is verified against its digest while it is
 * written, so a wrong one never lands under a digest; and `index.json` is read, changed and
 * replaced (by rename) under a lock file (oci-layout-lock.ts), so no writer loses another's tag.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errnoCode, fsError } from '../errors.js';
import { digestHex, sha256Of, type Digest } from '../oci/digest.js';
import { imageDigest, type Image } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import type { ImageIndex } from '../oci/schemas.js';
import { verifyDigest } from '../stream/verify.js';
import type { ImageSink } from './image-sink.js';
import { withLockFile } from './oci-layout-lock.js';
import { readLayoutIndex, REF_NAME } from './oci-layout-source.js';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** A name beside `path` no other writer uses. */
function tempName(path: string): string {
  return `${path}.${randomBytes(8).toString('hex')}.partial`;
}

/** Writes `bytes` to `path` through a temp file of its own, renamed into place. */
async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = tempName(path);
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Streams `source` through `verify` into `path`, via a temp file of its own renamed only once verified. */
async function streamAtomically(
  path: string,
  source: Readable,
  verify: Transform,
  signal?: AbortSignal,
): Promise<void> {
  const tmp = tempName(path);
  try {
    await pipeline(source, verify, createWriteStream(tmp, { flags: 'wx' }), { signal });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes the blobs of `image` into `blobsDir` (sha256/<hex>), streaming layers; existing blobs are kept. */
export async function writeBlobs(blobsDir: string, image: Image, signal?: AbortSignal): Promise<void> {
  const dir = join(blobsDir, 'sha256');
  await mkdir(dir, { recursive: true });
  const small = async (bytes: Uint8Array, digest: Digest): Promise<void> => {
    const p = join(dir, digestHex(digest));
    if (!(await exists(p))) await writeAtomically(p, bytes);
  };
  for (const layer of image.layers) {
    const { digest, size } = layer.descriptor;
    const p = join(dir, digestHex(digest));
    if (await exists(p)) continue;
    const verify = verifyDigest({ digest, size }, `layer ${digest} written to ${blobsDir}`);
    await streamAtomically(p, await layer.open(signal), verify, signal);
  }
  await small(image.configBytes, sha256Of(image.configBytes));
  await small(image.manifestBytes, imageDigest(image));
}

/** Replaces the entries tagged `tags` in the layout's index with `entry`, under the layout's lock. */
async function tagInIndex(dir: string, entry: ImageIndex['manifests'][number], tags: readonly string[]): Promise<void> {
  await withLockFile(join(dir, 'index.json.lock'), async () => {
    const index = (await readLayoutIndex(dir, { ifMalformed: 'none' })) ?? {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [],
    };
    const others = index.manifests.filter((m) => !tags.includes(m.annotations?.[REF_NAME] ?? '\0'));
    const tagged = tags.map((tag) => ({ ...entry, annotations: { [REF_NAME]: tag } }));
    await writeAtomically(join(dir, 'index.json'), JSON.stringify({ ...index, manifests: [...others, ...tagged] }));
  });
}

/**
 * Writes `image` into the OCI layout at `dir` under each of `tags` (blobs first, then one index
 * update naming them all). Safe to call concurrently with other writers of the same layout.
 */
export async function writeOciLayoutTags(
  dir: string,
  image: Image,
  tags: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await writeBlobs(join(dir, 'blobs'), image, signal);
    const marker = join(dir, 'oci-layout');
    if (!(await exists(marker))) await writeAtomically(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const entry = { mediaType: image.manifestMediaType, digest: imageDigest(image), size: image.manifestBytes.length };
    await tagInIndex(dir, entry, tags);
  } catch (err) {
    throw fsError(`writing the OCI layout ${dir}`, err);
  }
}

/** Writes `image` into the OCI layout at `dir` under `tag`. */
export async function writeOciLayout(dir: string, image: Image, tag: string, signal?: AbortSignal): Promise<void> {
  await writeOciLayoutTags(dir, image, [tag], signal);
}

/** The OCI layout at `dir` as a sink, naming the image `tag` in its index. */
export function ociLayoutSink(opts: { dir: string; tag: string }): ImageSink {
  return {
    async write(image, signal) {
      await writeOciLayout(opts.dir, image, opts.tag, signal);
      return { digest: imageDigest(image), pushed: [] };
    },
  };
}
