/**
 * The image checker for end-to-end tests: `skopeo inspect` for manifest and config, `skopeo copy`
 * into a private OCI layout and `umoci unpack` for the files. Independent of Kiln's code
 * (ARCHITECTURE.md §10), so an image Kiln wrote wrongly cannot be read back "correctly" by Kiln itself.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { run, skopeo } from './run.js';

/** An OCI/Docker content descriptor. */
export interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
}

/** A single-platform image manifest (OCI or Docker v2 schema 2). */
export interface Manifest {
  schemaVersion: number;
  /** Optional: umoci, for one, omits it (ARCHITECTURE.md §6). */
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The image config fields tests assert on. */
export interface ImageConfig {
  architecture: string;
  os: string;
  config?: {
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
  };
  rootfs: { diff_ids: string[] };
  history?: { created_by?: string; empty_layer?: boolean }[];
  created?: string;
}

/** One path of the unpacked rootfs, as `lstat` sees it (symlinks are not followed). */
export interface FileInfo {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits including setuid/setgid/sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  linkTarget?: string;
  size: number;
  /** Inode and link count, to assert hardlinks (umoci unpack keeps them). */
  ino: number;
  nlink: number;
  /** Modification time as umoci unpack restores it from the layers (whole seconds in PAX, finer if recorded). */
  mtimeMs: number;
}

/** Where the image to inspect lives. */
export type ImageSource = { registry: string } | { ociLayout: string; tag?: string } | { dockerArchive: string };

/** An image read back with independent tools. Call `cleanup()` when done (e.g. in `onTestFinished`). */
export interface InspectedImage {
  /** sha256 of the manifest bytes as stored (for a docker-archive: as skopeo synthesises them). */
  digest: string;
  manifest: Manifest;
  config: ImageConfig;
  /**
   * Layer digests from `manifest`. For a docker-archive these are skopeo's view: it reads the
   * tarball's layers as stored, so for uncompressed `layer.tar` files they equal the diff_ids.
   */
  layers: string[];
  /** The unpacked root filesystem on the host. */
  rootfsDir: string;
  /** Reads a file as UTF-8, following symlinks inside the rootfs (never out to the host). */
  readFile(p: string): Promise<string>;
  /** True if the path exists; a dangling symlink exists (no follow of the last component). */
  exists(p: string): Promise<boolean>;
  stat(p: string): Promise<FileInfo>;
  /**
   * Entry names of layer `i`'s tar exactly as written (leading `/`, `./` and whiteouts kept), read
   * from the local copy (same names even where a zstd layer was recompressed for umoci).
   */
  layerEntries(i: number): Promise<string[]>;
  /** {@link layerEntries} as raw bytes: Linux names need not be UTF-8, and a string would hide that. */
  layerEntryBytes(i: number): Promise<Buffer[]>;
  cleanup(): Promise<void>;
}

const LOCAL_TAG = 'inspected';

/**
 * Inspects an image in a registry (TLS not verified), an OCI layout, or a docker-archive tarball.
 * `creds` (`user:pass`) is passed to skopeo for registries with auth.
 */
export async function inspectImage(src: ImageSource, opts: { creds?: string } = {}): Promise<InspectedImage> {
  const { ref, inspectFlags, copyFlags } = skopeoRef(src, opts.creds);
  const raw = await skopeo(['inspect', '--raw', ...inspectFlags, ref]);
  const manifest = parseManifest(raw);
  const config = parseConfig(await skopeo(['inspect', '--config', '--raw', ...inspectFlags, ref]));
  const work = await mkdtemp(join(tmpdir(), 'kiln-inspect-'));
  try {
    const layout = join(work, 'layout');
    // umoci 0.4.7 refuses tar+zstd layers ("blob is not correct mediatype"): recompress to gzip.
    const zstd = manifest.layers.some((l) => l.mediaType.includes('zstd'));
    const recompress = zstd ? ['--dest-compress', '--dest-compress-format', 'gzip'] : [];
    await skopeo(['copy', '--quiet', ...copyFlags, ...recompress, ref, `oci:${layout}:${LOCAL_TAG}`]);
    await run('umoci', ['unpack', '--image', `${layout}:${LOCAL_TAG}`, join(work, 'bundle')]);
    const local = parseManifest(await skopeo(['inspect', '--raw', `oci:${layout}:${LOCAL_TAG}`]));
    const root = join(work, 'bundle', 'rootfs');
    const entryBytes = async (i: number): Promise<Buffer[]> => {
      const layer = local.layers[i];
      if (!layer) throw new Error(`image has ${local.layers.length} layers, no layer ${i}`);
      const blob = join(layout, 'blobs', ...layer.digest.split(':'));
      // GNU tar detects gzip/zstd/plain itself; -P and literal quoting keep names as written.
      const out = await run('tar', ['--quoting-style=literal', '-P', '-tf', blob]);
      const names: Buffer[] = [];
      for (let at = 0; at < out.length;) {
        const nl = out.indexOf(0x0a, at);
        const end = nl < 0 ? out.length : nl;
        if (end > at) names.push(out.subarray(at, end));
        at = end + 1;
      }
      return names;
    };
    return {
      digest: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      manifest,
      config,
      layers: manifest.layers.map((l) => l.digest),
      rootfsDir: root,
      readFile: async (p) => readFile(await resolveIn(root, p, true), 'utf8'),
      exists: async (p) =>
        lstat(await resolveIn(root, p, false)).then(
          () => true,
          () => false,
        ),
      stat: async (p) => fileInfo(await resolveIn(root, p, false)),
      layerEntries: async (i) => (await entryBytes(i)).map((n) => n.toString()),
      layerEntryBytes: entryBytes,
      cleanup: () => rm(work, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

function skopeoRef(src: ImageSource, creds?: string): { ref: string; inspectFlags: string[]; copyFlags: string[] } {
  if ('registry' in src) {
    const c = creds ? ['--creds', creds] : [];
    return {
      ref: `docker://${src.registry}`,
      inspectFlags: ['--tls-verify=false', ...c],
      copyFlags: ['--src-tls-verify=false', ...(creds ? ['--src-creds', creds] : [])],
    };
  }
  if ('ociLayout' in src)
    return { ref: `oci:${src.ociLayout}${src.tag ? `:${src.tag}` : ''}`, inspectFlags: [], copyFlags: [] };
  return { ref: `docker-archive:${src.dockerArchive}`, inspectFlags: [], copyFlags: [] };
}

function parseManifest(raw: Buffer): Manifest {
  const m = JSON.parse(raw.toString()) as Partial<Manifest>;
  if (m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new Error(`not a single-platform image manifest: ${raw.toString().slice(0, 500)}`);
  }
  return m as Manifest;
}

function parseConfig(raw: Buffer): ImageConfig {
  const c = JSON.parse(raw.toString()) as Partial<ImageConfig>;
  if (typeof c.architecture !== 'string' || typeof c.os !== 'string' || !Array.isArray(c.rootfs?.diff_ids)) {
    throw new Error(`not an image config: ${raw.toString().slice(0, 500)}`);
  }
  return c as ImageConfig;
}

async function fileInfo(hostPath: string): Promise<FileInfo> {
  const st = await lstat(hostPath);
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  const info: FileInfo = {
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    ino: st.ino,
    nlink: st.nlink,
    mtimeMs: st.mtimeMs,
  };
  if (type === 'symlink') info.linkTarget = await readlink(hostPath);
  return info;
}

/**
 * Maps an image path to a host path under `root`, resolving symlinks as a chroot would: an
 * absolute link target or `..` never leaves the rootfs (`/lib -> /usr/lib` must not reach the
 * host's /usr/lib). The last component is followed only if `followLast`.
 */
async function resolveIn(root: string, p: string, followLast: boolean): Promise<string> {
  const todo = p.split('/').filter((s) => s !== '' && s !== '.');
  let cur: string[] = [];
  for (let hops = 0; todo.length > 0;) {
    const name = todo.shift() ?? '';
    if (name === '.') continue;
    if (name === '..') {
      cur.pop();
      continue;
    }
    const next = [...cur, name];
    if (todo.length === 0 && !followLast) return join(root, ...next);
    const st = await lstat(join(root, ...next)).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (++hops > 40) throw new Error(`too many symlinks resolving ${p} in the image`);
    const target = await readlink(join(root, ...next));
    if (target.startsWith('/')) cur = [];
    todo.unshift(...target.split('/').filter((s) => s !== ''));
  }
  return join(root, ...cur);
}

/** {@link inspectImage} for the running test (a registry reference, or any source), cleaned up when the test finishes. */
export async function inspectForTest(src: string | ImageSource): Promise<InspectedImage> {
  const image = await inspectImage(typeof src === 'string' ? { registry: src } : src);
  onTestFinished(() => image.cleanup());
  return image;
}

/** Every regular file under `dir` (an unpacked image, say) whose content contains `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    if ((await readFile(p)).includes(needle)) hits.push(p);
  }
  return hits;
}
