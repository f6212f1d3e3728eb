/**
 * A busybox base image made locally from Debian's `busybox-static`, with system tools only
 * (tar, gzip, node:crypto), never Kiln's own code, so Kiln's bugs cannot hide behind themselves
 * (ARCHITECTURE.md §10). Like Docker Hub's busybox it has no /proc and no /sys.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestRegistry } from './registry.js';
import { run, skopeo } from './run.js';

/** A base image made by the harness, as tests need to refer to and compare against it. */
export interface BaseImage {
  /** `127.0.0.1:PORT/base/busybox:latest` once pushed; the layout directory for a layout. */
  ref: string;
  /** Manifest digest (`sha256:…`), identical in the layout and in the registry. */
  digest: string;
  /** Compressed layer digests, in manifest order. */
  layers: string[];
  /** Uncompressed layer digests (`rootfs.diff_ids`). */
  diffIds: string[];
  /** The image config JSON as written. */
  config: Record<string, unknown>;
}

const BUSYBOX = '/bin/busybox';
const EPOCH = '1970-01-01T00:00:00Z';
const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ARCH: Partial<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

interface Built {
  /** The blobs: layer, config and manifest. Kept in memory (about 1 MB) so nothing is left on disk. */
  blobs: Buffer[];
  manifest: { digest: string; size: number };
  image: Omit<BaseImage, 'ref'>;
}

/** Built once per process and busybox binary: the layout is deterministic, so reuse is safe. */
const built = new Map<string, Promise<Built>>();

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Writes an OCI image layout at `dir` (created if missing; other tags in an existing index are
 * kept) holding busybox tagged `tag`. Deterministic: the same busybox gives the same digests.
 */
export async function makeBusyboxLayout(dir: string, tag = 'latest'): Promise<BaseImage> {
  const key = sha256(await readFile(BUSYBOX));
  let pending = built.get(key);
  if (!pending) {
    pending = build(key);
    built.set(key, pending);
  }
  const b = await pending;
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const blob of b.blobs) await writeFile(join(dir, 'blobs', 'sha256', sha256(blob).slice(7)), blob);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = await readIndex(join(dir, 'index.json'));
  index.manifests = index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  index.manifests.push({
    mediaType: MT_MANIFEST,
    ...b.manifest,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  });
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return { ref: dir, ...b.image };
}

/**
 * Pushes the busybox image to `reg` as `repo:tag` with skopeo, keeping the manifest and layer
 * digests byte for byte (`--preserve-digests`, and checked afterwards).
 */
export async function pushBusybox(
  reg: TestRegistry,
  repo = 'base/busybox',
  tag = 'latest',
  opts: { creds?: string } = {},
): Promise<BaseImage> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-busybox-push-'));
  try {
    const image = await makeBusyboxLayout(dir, tag);
    const ref = `${reg.host}/${repo}:${tag}`;
    const creds = opts.creds ? ['--dest-creds', opts.creds] : [];
    await skopeo([
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      ...creds,
      `oci:${dir}:${tag}`,
      `docker://${ref}`,
    ]);
    const srcCreds = opts.creds ? ['--creds', opts.creds] : [];
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ...srcCreds, `docker://${ref}`]);
    if (sha256(raw) !== image.digest) throw new Error(`skopeo changed the busybox manifest: ${raw.toString()}`);
    return { ...image, ref };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: { mediaType?: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

async function readIndex(path: string): Promise<Index> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Index;
  } catch {
    return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
  }
}

/** Stages the rootfs in a temp dir, tars and gzips it deterministically, and makes config and manifest. */
async function build(busyboxDigest: string): Promise<Built> {
  const root = await mkdtemp(join(tmpdir(), `kiln-busybox-${busyboxDigest.slice(7, 19)}-`));
  try {
    return await buildIn(root, busyboxDigest);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function buildIn(root: string, busyboxDigest: string): Promise<Built> {
  const stage = join(root, 'rootfs');
  const dirs: [string, number, number][] = [
    ['', 0o755, 0],
    ['bin', 0o755, 0],
    ['dev', 0o755, 0],
    ['etc', 0o755, 0],
    ['home', 0o755, 0],
    ['home/app', 0o755, 1000],
    ['root', 0o700, 0],
    ['tmp', 0o1777, 0],
    ['usr', 0o755, 0],
    ['usr/bin', 0o755, 0],
  ];
  for (const [p, mode, id] of dirs) {
    await mkdir(join(stage, p), { recursive: true });
    await chmod(join(stage, p), mode); // explicit: the umask must not leak into the image
    await chown(join(stage, p), id, id);
  }
  await copyFile(BUSYBOX, join(stage, 'bin/busybox'));
  await chmod(join(stage, 'bin/busybox'), 0o755);
  const applets = (await run(BUSYBOX, ['--list']))
    .toString()
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) await symlink('busybox', join(stage, 'bin', a));
  const files: [string, string][] = [
    [
      'etc/passwd',
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n',
    ],
    ['etc/group', 'root:x:0:\nnobody:x:65534:\napp:x:1000:\n'],
  ];
  for (const [p, text] of files) {
    await writeFile(join(stage, p), text);
    await chmod(join(stage, p), 0o644);
  }
  const tarPath = join(root, 'layer.tar');
  await run('tar', [
    '--create',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--sort=name',
    '--mtime=@0',
    '--numeric-owner',
    '-C',
    stage,
    '-f',
    tarPath,
    ...dirs.map(([p]) => p).filter((p) => p && !p.includes('/')),
  ]);
  const tar = await readFile(tarPath);
  const gz = await run('gzip', ['-n', '-c', tarPath]);
  const diffId = sha256(tar);
  const layer = { mediaType: MT_LAYER, digest: sha256(gz), size: gz.length };
  const config: Record<string, unknown> = {
    created: EPOCH,
    architecture: ARCH[process.arch] ?? process.arch,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: EPOCH, created_by: `kiln test harness: busybox-static ${busyboxDigest}` }],
  };
  const configJson = Buffer.from(JSON.stringify(config));
  const manifestJson = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT_MANIFEST,
      config: { mediaType: MT_CONFIG, digest: sha256(configJson), size: configJson.length },
      layers: [layer],
    }),
  );
  const manifest = { digest: sha256(manifestJson), size: manifestJson.length };
  return {
    blobs: [gz, configJson, manifestJson],
    manifest,
    image: { digest: manifest.digest, layers: [layer.digest], diffIds: [diffId], config },
  };
}
