/**
 * Writes an image as a docker-archive tarball (`docker load`, `skopeo docker-archive:`):
 * `manifest.json` with Config, RepoTags and Layers, blobs under `blobs/sha256/` as Docker 25's
 * `docker save` lays them out, plus `oci-layout` and `index.json` so the same file is an OCI
 * archive too. Layers are stored as they are (compressed); both readers accept that.
 */
import { digestHex, sha256Of } from '../oci/digest.js';
import { imageDigest, type Image } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { fsError } from '../errors.js';
import { writeTarFile, type ArchiveEntry } from '../layers/archive.js';
import type { ImageSink } from './image-sink.js';

const blobName = (digest: string): string => `blobs/sha256/${digestHex(digest as `sha256:${string}`)}`;

/** `RepoTags` entries: Docker writes short names for Docker Hub images (`library/` dropped). */
function repoTag(ref: Reference): string | undefined {
  if (!ref.tag) return undefined;
  const full = formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
  return full.replace(/^docker\.io\/(library\/)?/, '');
}

/** Writes `image` as a docker-archive tarball at `file`, with `tags` as its `RepoTags`. */
export async function writeDockerArchive(
  file: string,
  image: Image,
  tags: readonly Reference[],
  signal?: AbortSignal,
): Promise<void> {
  const configDigest = sha256Of(image.configBytes);
  const manifestJson = Buffer.from(
    JSON.stringify([
      {
        Config: blobName(configDigest),
        RepoTags: tags.map(repoTag).filter((t): t is string => t !== undefined),
        Layers: image.layers.map((l) => blobName(l.descriptor.digest)),
      },
    ]),
  );
  const firstTag = tags.find((t) => t.tag);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: image.manifestMediaType,
          digest: imageDigest(image),
          size: image.manifestBytes.length,
          ...(firstTag
            ? {
                annotations: {
                  'io.containerd.image.name': formatReference(firstTag),
                  'org.opencontainers.image.ref.name': firstTag.tag ?? 'latest',
                },
              }
            : {}),
        },
      ],
    }),
  );
  const seen = new Set<string>();
  const entries: ArchiveEntry[] = [];
  const add = (e: ArchiveEntry): void => {
    if (seen.has(e.name)) return;
    seen.add(e.name);
    entries.push(e);
  };
  const layoutFile = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  add({ name: 'oci-layout', size: layoutFile.length, content: layoutFile });
  for (const layer of image.layers) {
    add({ name: blobName(layer.descriptor.digest), size: layer.descriptor.size, content: () => layer.open(signal) });
  }
  add({ name: blobName(configDigest), size: image.configBytes.length, content: image.configBytes });
  add({ name: blobName(imageDigest(image)), size: image.manifestBytes.length, content: image.manifestBytes });
  add({ name: 'index.json', size: index.length, content: index });
  add({ name: 'manifest.json', size: manifestJson.length, content: manifestJson });
  try {
    await writeTarFile(file, entries, signal);
  } catch (err) {
    throw fsError(`writing the image tarball ${file}`, err);
  }
}

/** The docker-archive tarball `file` as a sink; `tags` become its `RepoTags` (the first tagged one names it in `index.json`). */
export function dockerArchiveSink(opts: { file: string; tags: readonly Reference[] }): ImageSink {
  return {
    async write(image, signal) {
      await writeDockerArchive(opts.file, image, opts.tags, signal);
      return { digest: imageDigest(image), pushed: [] };
    },
  };
}
