/**
 * Writes a layer tar of changes read from the rootfs (DESIGN.md §4 "Written tar"): PAX where
 * needed, entries sorted, parents present, uname/gname empty, relative hardlink names, no
 * atime/ctime, optionally clamped mtimes. Together with extract.ts the only importer of tar-stream.
 */
import type { BigIntStats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header, type Pack } from 'tar-stream';
import { errnoCode, fsError, FilesystemError } from '../errors.js';
import { CachedResolver, type Rootfs } from '../rootfs/rootfs.js';
import type { Change } from '../snapshot/diff.js';
import { planEntries } from './pack-plan.js';
import { MAX_USTAR_ID } from './tar-header.js';
import { OPAQUE_MARKER } from './layer-writer.js';

type PackHeader = Partial<Header> & Pick<Header, 'name'>;

/** Options of {@link packChanges}. */
export interface PackOptions {
  /** Newer mtimes are lowered to this (`--reproducible`, SOURCE_DATE_EPOCH). */
  clampMtime?: Date;
  signal?: AbortSignal;
}

/** tar-stream writes mtime as `seconds | 0`, which wraps after 2038-01-19; stay below. */
const MAX_MTIME_SECONDS = 2 ** 31 - 1;
/** S_IFREG: tar-stream replaces a mode of 0 by 0644, so modes carry their file type bits (masked off when encoded). */
const S_IFREG = 0o100000;

/**
 * A tar stream of the given changes read from the rootfs: entries sorted by path, names
 * relative without leading '/' (dirs end with '/'), every missing parent directory added (real
 * metadata), 'whiteout' → empty file `dir/.wh.name`, 'opaque' → `dir/.wh..wh..opq` right after
 * the dir entry; files sharing an inode within the layer: the first is a file, later ones are
 * hardlinks to the first's relative name; symlinks keep their target; uname/gname empty;
 * mtime = min(mtime, clampMtime); no atime/ctime; PAX only for long/non-ASCII names and big
 * ids. Paths that no longer exist and sockets are left out. File contents are streamed.
 */
export function packChanges(rootfs: Rootfs, changes: Change[], opts: PackOptions): Readable {
  const pack = tar.pack();
  // Our own Readable in front of tar-stream's, so that headers (which tar-stream pushes without
  // regard to backpressure) wait for the consumer too: entries are added only while `out` has room.
  let demand: (() => void) | undefined;
  const out = new Readable({
    read(): void {
      pack.resume();
      demand?.();
      demand = undefined;
    },
    destroy(err, cb): void {
      pack.destroy(err ?? undefined);
      demand?.();
      cb(err);
    },
  });
  pack.on('data', (chunk: unknown) => {
    if (!out.push(chunk)) pack.pause();
  });
  pack.on('end', () => out.push(null));
  // A failing entry also fails writeEntries, whose error (more precise) destroys `out`.
  pack.on('error', () => {});
  const onAbort = (): void => {
    out.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  const room = async (): Promise<void> => {
    while (!out.destroyed && out.readableLength >= out.readableHighWaterMark) {
      await new Promise<void>((resolve) => (demand = resolve));
    }
    if (out.destroyed) throw new Error('tar stream destroyed');
  };
  writeEntries(rootfs, changes, pack, room, opts).then(
    () => pack.finalize(),
    (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))),
  ).finally(() => opts.signal?.removeEventListener('abort', onAbort));
  return out;
}

async function writeEntries(rootfs: Rootfs, changes: Change[], pack: Pack, room: () => Promise<void>, opts: PackOptions): Promise<void> {
  // Packing only reads the rootfs, so resolved directories stay valid throughout.
  const resolver = new CachedResolver(rootfs);
  const resolve = (p: string): Promise<string> => resolver.resolve(p);
  const canonical: Change[] = [];
  for (const c of changes) canonical.push({ kind: c.kind, path: rootfs.imagePathOf(await resolve(c.path)) });
  const firstNameOfInode = new Map<string, string>();
  const clampSeconds = opts.clampMtime ? Math.floor(opts.clampMtime.getTime() / 1000) : MAX_MTIME_SECONDS;
  const mtimeOf = (stat: BigIntStats): Date => {
    const s = Number(stat.mtimeNs / 1_000_000_000n);
    return new Date(Math.max(0, Math.min(s, clampSeconds, MAX_MTIME_SECONDS)) * 1000);
  };
  for (const planned of planEntries(canonical)) {
    await room();
    if (planned.kind === 'whiteout') {
      await add(pack, marker(planned.path.slice(1)));
      continue;
    }
    const name = planned.path.slice(1);
    if (planned.path !== '/') {
      const host = await resolve(planned.path);
      let stat: BigIntStats;
      try {
        stat = await lstat(host, { bigint: true });
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        throw fsError(`packing ${planned.path}`, err);
      }
      const header = await headerOf(name, host, stat, mtimeOf(stat));
      if (header === undefined) continue;
      if (header.type === 'file' && stat.nlink > 1n) {
        const inode = `${stat.dev}:${stat.ino}`;
        const first = firstNameOfInode.get(inode);
        if (first !== undefined) {
          await add(pack, { ...header, type: 'link', linkname: first, size: 0 });
          continue;
        }
        firstNameOfInode.set(inode, header.name);
      }
      await add(pack, header, header.type === 'file' && (header.size ?? 0) > 0 ? host : undefined);
    }
    if (planned.opaque) await add(pack, marker(planned.path === '/' ? OPAQUE_MARKER : `${name}/${OPAQUE_MARKER}`));
  }
}

/** An empty whiteout or opaque marker entry; fixed metadata, as only its name matters. */
function marker(name: string): PackHeader {
  return { name, type: 'file', size: 0, mode: S_IFREG, uid: 0, gid: 0, mtime: new Date(0), uname: '', gname: '' };
}

/** The header of a path from its lstat, or undefined for what tar cannot hold (sockets). */
async function headerOf(name: string, host: string, stat: BigIntStats, mtime: Date): Promise<PackHeader | undefined> {
  const uid = Number(stat.uid);
  const gid = Number(stat.gid);
  const header: PackHeader = { name, mode: Number(stat.mode), uid, gid, mtime, uname: '', gname: '', size: 0 };
  // The ustar id fields overflow silently in tar-stream; PAX carries big ids (user namespaces).
  if (uid > MAX_USTAR_ID || gid > MAX_USTAR_ID) header.pax = { uid: String(uid), gid: String(gid) };
  if (stat.isFile()) return { ...header, type: 'file', size: Number(stat.size) };
  if (stat.isDirectory()) return { ...header, name: `${name}/`, type: 'directory' };
  if (stat.isSymbolicLink()) {
    try {
      return { ...header, type: 'symlink', linkname: await readlink(host) };
    } catch (err) {
      throw fsError(`reading symlink /${name}`, err);
    }
  }
  if (stat.isFIFO()) return { ...header, type: 'fifo' };
  if (stat.isCharacterDevice() || stat.isBlockDevice()) {
    // glibc gnu_dev_major/gnu_dev_minor.
    const devmajor = Number(((stat.rdev >> 8n) & 0xfffn) | ((stat.rdev >> 32n) & 0xfffff000n));
    const devminor = Number((stat.rdev & 0xffn) | ((stat.rdev >> 12n) & 0xffffff00n));
    return { ...header, type: stat.isCharacterDevice() ? 'character-device' : 'block-device', devmajor, devminor };
  }
  return undefined; // sockets: tar has no type for them, and Docker leaves them out too
}

/** Adds one entry and waits until tar-stream has taken it whole; `contentFrom` streams a file's bytes. */
async function add(pack: Pack, header: PackHeader, contentFrom?: string): Promise<void> {
  const size = header.size ?? 0;
  let sink: ReturnType<Pack['entry']> | undefined;
  const entered = new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (header.type === 'file' && contentFrom === undefined) pack.entry(header, Buffer.alloc(0), done);
    else sink = pack.entry(header, done);
  });
  if (contentFrom === undefined || sink === undefined) return entered;
  // Exactly `size` bytes: a file that grew since lstat is cut at its size; one that shrank
  // makes tar-stream fail with "Size mismatch". The pipeline's error says best what happened,
  // so it wins over the entry callback's.
  const [piped, entry] = await Promise.allSettled([pipeline(createReadStream(contentFrom, { start: 0, end: size - 1 }), sink), entered]);
  if (piped.status === 'rejected') {
    const err: unknown = piped.reason;
    throw errnoCode(err) !== undefined
      ? fsError(`reading ${contentFrom}`, err)
      : new FilesystemError(`/${header.name} changed while it was being packed`, { cause: err });
  }
  if (entry.status === 'rejected') throw entry.reason;
}
