/**
 * A listing of a root filesystem — paths, types, modes, owners, sizes, link targets, content
 * hashes, file capabilities and hardlink groups — made two independent ways: inside a RUN (the
 * rootfs exactly as Kiln's RUN saw it, printed with busybox `stat`, `sha256sum` and `getcap`)
 * and on the host for a directory unpacked by `umoci unpack`. Equal listings mean the image
 * holds what the build saw. /dev, /proc and /sys are left out (mount points of the RUN).
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.js';

/** Layer `i` of the image an OCI layout holds, as GNU tar lists it (`-tv`), and its uncompressed bytes. */
export async function layoutLayer(
  layout: string,
  i: number,
): Promise<{ verbose: string[]; names: string[]; raw: Buffer; mediaType: string }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (d: string): string => join(layout, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]?.digest ?? ''), 'utf8')) as {
    layers: { digest: string; mediaType: string }[];
  };
  const layer = manifest.layers[i];
  if (!layer) throw new Error(`the image has ${manifest.layers.length} layers, no layer ${i}`);
  // GNU tar detects gzip and zstd itself.
  const verbose = (await run('tar', ['--numeric-owner', '--quoting-style=literal', '-tvf', blob(layer.digest)]))
    .toString()
    .split('\n')
    .filter(Boolean);
  const raw = await run('sh', ['-c', 'zstd -dcq "$1" 2>/dev/null || gzip -dc "$1"', 'sh', blob(layer.digest)]);
  const names = verbose.map((l) =>
    l
      .replace(/^\S+ \S+ +\d+ \S+ \S+ /, '')
      .replace(/ link to .*$/, '')
      .replace(/ -> .*$/, ''),
  );
  return { verbose, names, raw, mediaType: layer.mediaType };
}

const PRUNE = String.raw`\( -path /proc -o -path /sys -o -path /dev \) -prune -o`;

/** A RUN command printing the listing on stdout (lines prefixed S|, H|, C|); it writes nothing. */
export const LISTING_RUN = [
  `find / -xdev ${PRUNE} -print0 | xargs -0 stat -c 'S|%n|%F|%a|%u|%g|%s|%i|%h|%N'`,
  `find / -xdev ${PRUNE} -type f -print0 | xargs -0 sha256sum | sed 's/^/H|/'`,
  `find / -xdev ${PRUNE} -type f -print0 | xargs -0 getcap | sed 's/^/C|/'`,
].join(' && ');

export interface Listing {
  /** `path type mode uid:gid size nlink target` per path. */
  entries: string[];
  /** `path sha256` per regular file. */
  hashes: string[];
  /** `path caps` per file with a capability. */
  caps: string[];
  /** Groups of paths sharing an inode, each sorted, as `a = b`. */
  linkGroups: string[];
}

function groups(byInode: Map<string, string[]>): string[] {
  return [...byInode.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort().join(' = '))
    .sort();
}

/**
 * Paths neither side compares: a RUN sees the host's /dev, /proc and /sys, and the host's
 * resolv.conf, hosts and hostname bound over /etc's (issue 13), which test/e2e/run-environment
 * checks never reach a layer.
 */
const HOST_FILES = new Set(['/etc/resolv.conf', '/etc/hosts', '/etc/hostname']);
const skipped = (p: string): boolean =>
  p === '/' || HOST_FILES.has(p) || ['/dev', '/proc', '/sys'].some((d) => p === d || p.startsWith(`${d}/`));

function entry(
  path: string,
  type: string,
  mode: number,
  uid: number,
  gid: number,
  size: number,
  nlink: number,
  target: string,
): string {
  // Directory sizes and link counts depend on the filesystem, not the image.
  const dir = type === 'directory';
  return `${path} ${type} ${mode.toString(8)} ${uid}:${gid} ${dir ? '-' : size} ${dir ? '-' : nlink} ${target}`;
}

/** The listing LISTING_RUN printed, from the executor's stdout. */
export function parseListing(stdout: string): Listing {
  const entries: string[] = [];
  const hashes: string[] = [];
  const caps: string[] = [];
  const byInode = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('S|')) {
      const [, path = '', type = '', mode = '', uid = '', gid = '', size = '', ino = '', nlink = '', ...rest] =
        line.split('|');
      if (skipped(path)) continue;
      const quoted = rest.join('|');
      const target = type === 'symbolic link' ? quoted.slice(quoted.indexOf(" -> '") + 5, -1) : '';
      entries.push(entry(path, type, parseInt(mode, 8), Number(uid), Number(gid), Number(size), Number(nlink), target));
      if (type !== 'directory' && Number(nlink) > 1) byInode.set(ino, [...(byInode.get(ino) ?? []), path]);
    } else if (line.startsWith('H|')) {
      const m = /^H\|([0-9a-f]{64}) {2}(.*)$/.exec(line);
      if (m && !skipped(m[2] ?? '')) hashes.push(`${m[2] ?? ''} ${m[1] ?? ''}`);
    } else if (line.startsWith('C|')) {
      caps.push(line.slice(2).trim());
    }
  }
  return { entries: entries.sort(), hashes: hashes.sort(), caps: caps.sort(), linkGroups: groups(byInode) };
}

/** busybox `stat %F` names. */
function typeName(st: Awaited<ReturnType<typeof lstat>>): string {
  if (st.isFile()) return st.size === 0 ? 'regular empty file' : 'regular file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'character special file';
  if (st.isBlockDevice()) return 'block special file';
  return 'socket';
}

/** The same listing, made on the host for an unpacked rootfs directory. */
export async function listHost(root: string): Promise<Listing> {
  const entries: string[] = [];
  const hashes: string[] = [];
  const files: string[] = [];
  const byInode = new Map<string, string[]>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = `${rel === '/' ? '' : rel}/${name}`;
      if (skipped(path)) continue;
      const host = join(root, path);
      const st = await lstat(host);
      const type = typeName(st);
      entries.push(
        entry(
          path,
          type,
          st.mode & 0o7777,
          st.uid,
          st.gid,
          st.size,
          st.nlink,
          st.isSymbolicLink() ? await readlink(host) : '',
        ),
      );
      if (st.isFile()) {
        hashes.push(
          `${path} ${createHash('sha256')
            .update(await readFile(host))
            .digest('hex')}`,
        );
        files.push(path);
      }
      if (!st.isDirectory() && st.nlink > 1)
        byInode.set(String(st.ino), [...(byInode.get(String(st.ino)) ?? []), path]);
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk('/');
  const caps: string[] = [];
  for (let i = 0; i < files.length; i += 500) {
    const out = (
      await run(
        'getcap',
        files.slice(i, i + 500).map((f) => join(root, f)),
      )
    ).toString();
    for (const line of out.split('\n').filter(Boolean)) caps.push(line.replace(root, '').trim());
  }
  return { entries: entries.sort(), hashes: hashes.sort(), caps: caps.sort(), linkGroups: groups(byInode) };
}
