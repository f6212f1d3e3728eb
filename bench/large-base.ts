/**
 * A base image with a large rootfs for the snapshot scenario: the harness's busybox plus one layer
 * of N small files, made with system tar and gzip (never Kiln's own code) and pushed with skopeo,
 * outside the timed part of the bench.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBusyboxLayout } from '../test/support/busybox.js';
import type { TestRegistry } from '../test/support/registry.js';
import { run, skopeo } from '../test/support/run.js';

const MT_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const TAG = 'large';
const PER_DIR = 400;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}
interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}
interface Index {
  manifests: (Descriptor & { annotations?: Record<string, string> })[];
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** Writes `count` files of about 40 bytes as /usr/share/bench-data/dNNN/fNNN under `stage`. */
async function writeFiles(stage: string, count: number): Promise<void> {
  for (let d = 0; d * PER_DIR < count; d++) {
    const dir = join(stage, 'usr/share/bench-data', `d${String(d).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < count; f++) {
      writes.push(writeFile(join(dir, `f${String(f).padStart(3, '0')}`), `bench file ${d}/${f}\n`));
    }
    await Promise.all(writes);
  }
}

/** Builds busybox + a layer of `count` files and pushes it as `base/large:latest`; returns its reference. */
export async function pushLargeBase(reg: TestRegistry, scratch: string, count: number): Promise<string> {
  const root = join(scratch, 'large-base');
  const layout = join(root, 'layout');
  const stage = join(root, 'rootfs');
  try {
    const busybox = await makeBusyboxLayout(layout, TAG);
    const blob = (digest: string): string => join(layout, 'blobs', 'sha256', digest.slice(7));
    const manifest = JSON.parse(await readFile(blob(busybox.digest), 'utf8')) as Manifest;

    await writeFiles(stage, count);
    const tarPath = join(root, 'layer.tar');
    await run('tar', [
      '--create',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '--sort=name',
      '--mtime=@0',
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '-C',
      stage,
      '-f',
      tarPath,
      'usr',
    ]);
    const diffId = await sha256File(tarPath);
    await run('gzip', ['-n', '-1', tarPath]);
    const gzPath = `${tarPath}.gz`;
    const layer: Descriptor = {
      mediaType: MT_LAYER,
      digest: await sha256File(gzPath),
      size: (await stat(gzPath)).size,
    };
    await run('mv', [gzPath, blob(layer.digest)]);

    const config = structuredClone(busybox.config) as { rootfs: { diff_ids: string[] }; history: unknown[] };
    config.rootfs.diff_ids.push(diffId);
    config.history.push({ created: '1970-01-01T00:00:00Z', created_by: `kiln bench: ${count} small files` });
    const configJson = Buffer.from(JSON.stringify(config));
    await writeFile(blob(sha256(configJson)), configJson);
    const next: Manifest = {
      ...manifest,
      config: { mediaType: MT_CONFIG, digest: sha256(configJson), size: configJson.length },
      layers: [...manifest.layers, layer],
    };
    const manifestJson = Buffer.from(JSON.stringify(next));
    await writeFile(blob(sha256(manifestJson)), manifestJson);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
    index.manifests = [
      {
        mediaType: MT_MANIFEST,
        digest: sha256(manifestJson),
        size: manifestJson.length,
        annotations: { 'org.opencontainers.image.ref.name': TAG },
      },
    ];
    await writeFile(join(layout, 'index.json'), JSON.stringify(index));

    const ref = `${reg.host}/base/large:latest`;
    await skopeo([
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:${TAG}`,
      `docker://${ref}`,
    ]);
    return ref;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
