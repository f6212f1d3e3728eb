/** Where a built image goes: the sinks the options ask for (OCI layout, docker-archive, registries), then the digest files. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fsError } from '../errors.js';
import { dockerArchiveSink } from '../image/docker-archive-sink.js';
import type { ImageSink } from '../image/image-sink.js';
import { ociLayoutSink } from '../image/oci-layout-sink.js';
import { registrySink } from '../image/registry-sink.js';
import { imageDigest, type Image } from '../oci/image.js';
import type { BuildEnv } from './build-env.js';
import type { RegistryClients } from './clients.js';

async function writeText(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text).catch((e: unknown) => {
    throw fsError(`writing ${flag} ${path}`, e);
  });
}

/**
 * The sinks of `--oci-layout-path`, `--tar-path` and the destinations, in the order they are
 * written: the local files first, the registries last.
 */
export function imageSinks(env: BuildEnv, clients: RegistryClients): ImageSink[] {
  const o = env.options;
  const sinks: ImageSink[] = [];
  if (o.ociLayoutPath)
    sinks.push(ociLayoutSink({ dir: resolve(env.cwd, o.ociLayoutPath), tag: o.destinations[0]?.tag ?? 'latest' }));
  if (o.tarPath) sinks.push(dockerArchiveSink({ file: resolve(env.cwd, o.tarPath), tags: o.destinations }));
  if (o.push)
    sinks.push(
      registrySink({
        client: clients.push,
        destinations: o.destinations,
        logger: env.logger,
        policy: clients.pushPolicy,
      }),
    );
  return sinks;
}

/** Writes `image` to every sink, then the digest files; returns the references pushed. */
export async function deliver(image: Image, env: BuildEnv, clients: RegistryClients): Promise<string[]> {
  const o = env.options;
  const digest = imageDigest(image);
  const pushed: string[] = [];
  for (const sink of imageSinks(env, clients)) pushed.push(...(await sink.write(image, env.signal)).pushed);
  if (o.digestFile) await writeText(resolve(env.cwd, o.digestFile), digest, '--digest-file');
  if (o.imageNameWithDigestFile) {
    const lines = o.destinations.map((d) => `${d.registry}/${d.repository}@${digest}\n`).join('');
    await writeText(resolve(env.cwd, o.imageNameWithDigestFile), lines, '--image-name-with-digest-file');
  }
  if (o.imageNameTagWithDigestFile) {
    // Kaniko's DoPush: `REPO:TAG@DIGEST`, a line per destination.
    const lines = o.destinations
      .map((d) => `${d.registry}/${d.repository}${d.tag ? `:${d.tag}` : ''}@${digest}\n`)
      .join('');
    await writeText(resolve(env.cwd, o.imageNameTagWithDigestFile), lines, '--image-name-tag-with-digest-file');
  }
  return pushed;
}
