/**
 * Writes a layer tar of changes read from the rootfs (ARCHITECTURE.md §5 "Written tar"): entries
 * sorted, parents present, uname/gname empty, relative hardlink names, no atime/ctime,
 * optionally clamped mtimes, pax only where needed, and the file capability of each file
 * (`SCHILY.xattr.security.capability`, as Docker and Kaniko record it) so that a `setcap` in a
 * RUN survives. Small entries are gathered into larger chunks; big files stream through.
 */
import type { Stats } from 'node:fs';
import { closeSync, constants, readSync } from 'node:fs';
import { lstatSync, openSync, readlinkSync } from '../rootfs/host-fs.js';
import { Readable } from 'node:stream';
import { errnoCode, fsError, FilesystemError } from '../errors.js';
import { CachedResolver, type Rootfs } from '../rootfs/rootfs.js';
import type { Change, ContentIdentities } from '../rootfs/change.js';
import { contentHasher, contentIdentity, factsOf } from '../rootfs/file-facts.js';
import { OPAQUE_MARKER } from './layer-whiteouts.js';
import { planEntries, type PlannedEntry } from './pack-plan.js';
import { encodeHeader, END_OF_ARCHIVE, padding, type WriteHeader } from './tar-write.js';
import { CAPABILITY_XATTR, type XattrTool } from './tools.js';

/** Options of {@link packChanges}. */
export interface PackOptions {
  /** Newer mtimes are lowered to this (`--reproducible`, SOURCE_DATE_EPOCH). */
  clampMtime?: Date;
  signal?: AbortSignal;
  /** Reads file capabilities; without it, none are recorded. */
  xattrs?: XattrTool;
  /** `--snapshot-mode=full`: the content identity of every file packed is recorded here. */
  contentCache?: ContentIdentities;
}

/** Entries looked at (lstat, capabilities) at a time. */
const BATCH = 1024;
/** Output chunks are gathered up to this size; file data beyond it streams in chunks of this size. */
const CHUNK = 256 * 1024;

interface Node {
  path: string;
  host: string;
  stat: Stats;
  opaque: boolean;
}

/**
 * A tar stream of the given changes read from the rootfs: entries sorted by path, names
 * relative without leading '/' (dirs end with '/'), every missing parent directory added (real
 * metadata), 'whiteout' → empty file `dir/.wh.name`, 'opaque' → `dir/.wh..wh..opq` right after
 * the dir entry; files sharing an inode within the layer: the first is a file, later ones are
 * hardlinks to the first's relative name; symlinks keep their target; mtime = min(mtime,
 * clampMtime). Paths that no longer exist and sockets are left out.
 */
export function packChanges(rootfs: Rootfs, changes: Change[], opts: PackOptions): Readable {
  return Readable.from(tarBytes(rootfs, changes, opts), { objectMode: false, highWaterMark: CHUNK });
}

async function* tarBytes(rootfs: Rootfs, changes: Change[], opts: PackOptions): AsyncGenerator<Buffer> {
  // Packing only reads the rootfs, so resolved directories stay valid throughout.
  const resolver = new CachedResolver(rootfs);
  const canonical: Change[] = [];
  for (const c of changes) canonical.push({ kind: c.kind, path: rootfs.imagePathOf(await resolver.resolve(c.path)) });
  const out = new Gather();
  const firstNameOfInode = new Map<string, string>();
  const clampSeconds = opts.clampMtime ? Math.floor(opts.clampMtime.getTime() / 1000) : Infinity;
  const planned = planEntries(canonical);
  for (let i = 0; i < planned.length; i += BATCH) {
    opts.signal?.throwIfAborted();
    const batch = planned.slice(i, i + BATCH);
    const nodes = await statAll(batch, resolver);
    const files = [...nodes.values()].filter((n) => n.stat.isFile()).map((n) => n.host);
    const caps =
      opts.xattrs && files.length > 0 ? await opts.xattrs.capabilities(files, opts.signal) : new Map<string, Buffer>();
    for (const p of batch) {
      opts.signal?.throwIfAborted();
      if (p.kind === 'whiteout') {
        out.add(marker(p.path.slice(1)));
        continue;
      }
      const node = nodes.get(p.path);
      if (node) {
        const name = node.path.slice(1);
        const cap = caps.get(node.host);
        const header = headerOf(name, node, Math.min(Math.floor(node.stat.mtimeMs / 1000), clampSeconds), cap);
        if (header?.type === 'file' && node.stat.nlink > 1) {
          const inode = `${node.stat.dev}:${node.stat.ino}`;
          const first = firstNameOfInode.get(inode);
          if (first !== undefined) {
            out.add(encodeHeader({ ...header, type: 'link', linkname: first, size: 0, xattrs: new Map() }));
            const facts = factsOf(node.stat);
            const identity = opts.contentCache?.lookup(`/${first}`, facts);
            if (identity !== undefined) opts.contentCache?.record(node.path, facts, identity);
            continue;
          }
          firstNameOfInode.set(inode, header.name);
        }
        if (header) out.add(encodeHeader(header));
        if (header?.type === 'file') yield* fileData(node, out, opts.contentCache, cap);
      }
      if (p.kind === 'node' && p.opaque)
        out.add(marker(p.path === '/' ? OPAQUE_MARKER : `${p.path.slice(1)}/${OPAQUE_MARKER}`));
      if (out.full()) yield out.take();
    }
  }
  out.add(END_OF_ARCHIVE);
  yield out.take();
}

/** lstat of the planned nodes (not the root, not whiteouts); vanished paths are left out. */
async function statAll(batch: PlannedEntry[], resolver: CachedResolver): Promise<Map<string, Node>> {
  const nodes = new Map<string, Node>();
  for (const p of batch) {
    if (p.kind !== 'node' || p.path === '/') continue;
    const host = await resolver.resolve(p.path);
    let stat: Stats | undefined;
    try {
      stat = lstatSync(host, { throwIfNoEntry: false });
    } catch (err) {
      if (errnoCode(err) !== 'ENOTDIR') throw fsError(`packing ${p.path}`, err);
    }
    if (stat) nodes.set(p.path, { path: p.path, host, stat, opaque: p.opaque });
  }
  return nodes;
}

/** An empty whiteout or opaque marker entry; fixed metadata, as only its name matters. */
function marker(name: string): Buffer {
  return encodeHeader({ name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtimeSeconds: 0 });
}

/** The header of a path from its lstat, or undefined for what tar cannot hold (sockets). */
function headerOf(name: string, node: Node, mtimeSeconds: number, cap: Buffer | undefined): WriteHeader | undefined {
  const { stat } = node;
  const base = { name, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, size: 0, mtimeSeconds };
  if (stat.isFile())
    return { ...base, type: 'file', size: stat.size, ...(cap ? { xattrs: new Map([[CAPABILITY_XATTR, cap]]) } : {}) };
  if (stat.isDirectory()) return { ...base, name: `${name}/`, type: 'directory' };
  if (stat.isSymbolicLink()) {
    try {
      return { ...base, type: 'symlink', linkname: readlinkSync(node.host) };
    } catch (err) {
      throw fsError(`reading symlink /${name}`, err);
    }
  }
  if (stat.isFIFO()) return { ...base, type: 'fifo' };
  if (stat.isCharacterDevice() || stat.isBlockDevice()) {
    // glibc gnu_dev_major/gnu_dev_minor.
    const rdev = BigInt(stat.rdev);
    const devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
    const devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
    return { ...base, type: stat.isCharacterDevice() ? 'character-device' : 'block-device', devmajor, devminor };
  }
  return undefined; // sockets: tar has no type for them, and Docker leaves them out too
}

/**
 * The file's bytes and padding: exactly the size lstat saw (a file that grew is cut there; one
 * that shrank fails the layer). Small files join the gathered output; big ones stream.
 */
async function* fileData(
  node: Node,
  out: Gather,
  cache: ContentIdentities | undefined,
  cap: Buffer | undefined,
): AsyncGenerator<Buffer> {
  const size = node.stat.size;
  const hash = cache ? contentHasher() : undefined;
  let fd: number;
  try {
    fd = openSync(node.host, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw fsError(`reading ${node.path}`, err);
  }
  try {
    let done = 0;
    while (done < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      let got = 0;
      while (got < buf.length) {
        let n: number;
        try {
          n = readSync(fd, buf, got, buf.length - got, done + got);
        } catch (err) {
          throw fsError(`reading ${node.path}`, err);
        }
        if (n === 0) throw new FilesystemError(`${node.path} changed while it was being packed (it shrank)`);
        got += n;
      }
      done += got;
      hash?.update(buf);
      out.add(buf);
      if (out.full()) yield out.take();
    }
  } finally {
    closeSync(fd);
  }
  out.add(padding(size));
  if (hash) cache?.record(node.path, factsOf(node.stat), contentIdentity(hash, cap));
}

/** Gathers small buffers into chunks of about {@link CHUNK} bytes. */
class Gather {
  private parts: Buffer[] = [];
  private bytes = 0;

  add(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.bytes += b.length;
  }

  full(): boolean {
    return this.bytes >= CHUNK;
  }

  take(): Buffer {
    const out = this.parts.length === 1 && this.parts[0] ? this.parts[0] : Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}
