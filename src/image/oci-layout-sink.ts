/**
 * Writes an image as an OCI image layout (image-layout.md): `oci-layout`, `index.json` naming
 * the manifest (with `org.opencontainers.image.ref.name` so `umoci` and `skopeo oci:DIR:TAG`
 * find it), and every blob under `blobs/sha256/`. Blobs stream to disk; an existing layout
 * keeps its other images, and an entry with the same tag is replaced.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errnoCode, fsError } from '../errors.js';
import { digestHex, sha256Of, type Digest } from '../oci/digest.js';
import { imageDigest, type Image } from '../oci/image.js';
import type { ImageSink } from './image-sink.js';
import { MediaType } from '../oci/media-types.js';
import { indexSchema, type ImageIndex } from '../oci/schemas.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

async function readIndex(dir: string): Promise<ImageIndex> {
  try {
    const parsed = indexSchema.safeParse(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')));
    if (parsed.success) return parsed.data;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** Writes the blobs of `image` into `blobsDir` (sha256/<hex>), streaming layers; existing blobs are kept. */
export async function writeBlobs(blobsDir: string, image: Image, signal?: AbortSignal): Promise<void> {
  const dir = join(blobsDir, 'sha256');
  await mkdir(dir, { recursive: true });
  const small = async (bytes: Uint8Array, digest: Digest): Promise<void> => {
    const p = join(dir, digestHex(digest));
    if (!(await exists(p))) await writeFile(p, bytes);
  };
  for (const layer of image.layers) {
    const p = join(dir, digestHex(layer.descriptor.digest));
    if (await exists(p)) continue;
    const tmp = `${p}.partial`;
    await pipeline(await layer.open(signal), createWriteStream(tmp), { signal });
    await rename(tmp, p);
  }
  await small(image.configBytes, sha256Of(image.configBytes));
  await small(image.manifestBytes, imageDigest(image));
}

/** Writes `image` into the OCI layout at `dir` under `tag`. */
export async function writeOciLayout(dir: string, image: Image, tag: string, signal?: AbortSignal): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await writeBlobs(join(dir, 'blobs'), image, signal);
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const index = await readIndex(dir);
    const others = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
    const entry = {
      mediaType: image.manifestMediaType,
      digest: imageDigest(image),
      size: image.manifestBytes.length,
      annotations: { [REF_NAME]: tag },
    };
    await writeFile(join(dir, 'index.json'), JSON.stringify({ ...index, manifests: [...others, entry] }));
  } catch (err) {
    throw fsError(`writing the OCI layout ${dir}`, err);
  }
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
