/**
 * Images made of arbitrary layer tars, pushed to the test registry with plain HTTP requests
 * (OCI distribution spec: monolithic blob upload, then the manifest), never with Kiln's code —
 * so that hostile or unusual layers reach Kiln exactly as written.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { TestRegistry } from './registry.js';
import { run } from './run.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ARCH: Partial<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

async function putBlob(reg: TestRegistry, repo: string, blob: Buffer): Promise<string> {
  const digest = sha256(blob);
  const start = await fetch(`http://${reg.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new Error(`blob upload to ${repo} not started: ${start.status}`);
  const url = new URL(location, `http://${reg.host}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, {
    method: 'PUT',
    body: new Uint8Array(blob),
    headers: { 'content-type': 'application/octet-stream' },
  });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`blob upload to ${repo} failed: ${put.status}`);
  return digest;
}

/** Options of {@link pushLayers}. */
export interface PushLayersOptions {
  /** The config's `rootfs.diff_ids` as given (a lie about the layers), instead of their real sha256s. */
  diffIds?: string[];
}

/**
 * Pushes an image whose layers are `layers` (uncompressed tars, gzipped here) as
 * `repo:tag`; returns the reference. `raw: true` keeps a layer's bytes exactly as given
 * (an uncompressed or deliberately broken blob).
 */
export async function pushLayers(
  reg: TestRegistry,
  repo: string,
  tag: string,
  layers: (Buffer | { raw: Buffer })[],
  opts: PushLayersOptions = {},
): Promise<string> {
  const blobs = layers.map((l) => (Buffer.isBuffer(l) ? { tar: l, blob: gzipSync(l) } : { tar: l.raw, blob: l.raw }));
  const descriptors = [];
  for (const b of blobs) {
    const digest = await putBlob(reg, repo, b.blob);
    descriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: b.blob.length });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '1970-01-01T00:00:00Z',
      architecture: ARCH[process.arch] ?? process.arch,
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: opts.diffIds ?? blobs.map((b) => sha256(b.tar)) },
      history: blobs.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: 'kiln test harness: layer-images' })),
    }),
  );
  const configDigest = await putBlob(reg, repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: descriptors,
  });
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`manifest push to ${repo}:${tag} failed: ${res.status}`);
  return `${reg.host}/${repo}:${tag}`;
}

/**
 * A layer tar of the directory `dir` made by GNU tar (POSIX format, sorted, numeric owners,
 * file capabilities kept), listing `paths` relative to `dir`.
 */
export async function gnuTarLayer(dir: string, paths: string[]): Promise<Buffer> {
  return run('tar', [
    '--create',
    '--format=posix',
    '--pax-option=delete=atime,delete=ctime',
    '--sort=name',
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=security.capability',
    '-C',
    dir,
    '-f',
    '-',
    ...paths,
  ]);
}
