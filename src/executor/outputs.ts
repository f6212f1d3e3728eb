/** Where a built image goes: OCI layout, docker-archive, registries, and the digest files. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fsError } from '../errors.js';
import { writeDockerArchive } from '../image/docker-archive-sink.js';
import { writeOciLayout } from '../image/oci-layout-sink.js';
import { pushImage } from '../image/registry-sink.js';
import { imageDigest, type Image } from '../oci/image.js';
import { formatReference } from '../oci/reference.js';
import type { BuildEnv } from './build-env.js';
import type { RegistryClients } from './clients.js';

async function writeText(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text).catch((e: unknown) => {
    throw fsError(`writing ${flag} ${path}`, e);
  });
}

/** Writes and pushes `image` as the options ask; returns the references pushed. */
export async function deliver(image: Image, env: BuildEnv, clients: RegistryClients): Promise<string[]> {
  const o = env.options;
  const digest = imageDigest(image);
  if (o.ociLayoutPath) await writeOciLayout(resolve(env.cwd, o.ociLayoutPath), image, o.destinations[0]?.tag ?? 'latest', env.signal);
  if (o.tarPath) await writeDockerArchive(resolve(env.cwd, o.tarPath), image, o.destinations, env.signal);
  const pushed: string[] = [];
  if (o.push) {
    await pushImage(clients.push, image, o.destinations, env.logger, env.signal, clients.pushPolicy);
    pushed.push(...o.destinations.map(formatReference));
  }
  if (o.digestFile) await writeText(resolve(env.cwd, o.digestFile), digest, '--digest-file');
  if (o.imageNameWithDigestFile) {
    const lines = o.destinations.map((d) => `${d.registry}/${d.repository}@${digest}\n`).join('');
    await writeText(resolve(env.cwd, o.imageNameWithDigestFile), lines, '--image-name-with-digest-file');
  }
  return pushed;
}
