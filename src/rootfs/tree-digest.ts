/**
 * The digest of what a COPY or ADD would copy from a host path (issue 15: a COPY step's cache
 * key covers "the content, mode and ownership of the sources after .dockerignore"). The walk is
 * copy-in.ts's: a file or symlink source is itself; a directory's entries are taken depth first,
 * by sorted name, through the same selector (`.dockerignore`, `--exclude`), a directory the
 * selector only descends into counting only through what is below it. Each entry adds its path
 * below the source, type, permission bits, owner, and its content's sha256 (a file, streamed), its
 * target (a symlink) or its device numbers (never opened). Modification times are left out, as in
 * Kaniko's and BuildKit's cache keys: touching a file does not rerun the step.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Selector } from './copy-in.js';
import { createReadStream, lstat, readdir, readlink } from './host-fs.js';

const TYPES: [test: (st: Stats) => boolean, name: string][] = [
  [(st) => st.isFile(), 'file'],
  [(st) => st.isDirectory(), 'dir'],
  [(st) => st.isSymbolicLink(), 'symlink'],
  [(st) => st.isFIFO(), 'fifo'],
  [(st) => st.isCharacterDevice(), 'char'],
  [(st) => st.isBlockDevice(), 'block'],
];

/** How {@link treeDigest} walks. */
export interface TreeDigestOptions {
  /** The copy's filter of directory entries (copy-in.ts). */
  select?: Selector;
  /**
   * Whether owners count (default true). A copy that sets every owner itself (COPY from the
   * context: root, or `--chown`) passes false: a checkout made by another uid is the same source.
   */
  owners?: boolean;
}

/**
 * `sha256:<hex>` of the source at host path `src`. A directory source's own mode and owner do
 * not count (the copy makes its destination 0755, or as `--chmod`/`--chown` say: copy-in.ts).
 */
export async function treeDigest(src: string, o: TreeDigestOptions = {}): Promise<string> {
  const out = createHash('sha256');
  const owners = o.owners !== false;
  const st = await lstat(src);
  if (st.isDirectory()) await addTree(out, src, '', o.select, owners);
  else await addEntry(out, '.', src, st, owners);
  return `sha256:${out.digest('hex')}`;
}

async function addTree(
  out: Hash,
  dir: string,
  rel: string,
  select: Selector | undefined,
  owners: boolean,
): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const host = join(dir, name);
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(host);
    const verdict = select ? select(r, st.isDirectory()) : 'include';
    if (verdict === 'exclude') continue;
    if (verdict === 'include') await addEntry(out, r, host, st, owners);
    if (st.isDirectory()) await addTree(out, host, r, select, owners);
  }
}

async function addEntry(out: Hash, rel: string, host: string, st: Stats, owners: boolean): Promise<void> {
  const type = TYPES.find(([test]) => test(st))?.[1] ?? 'other';
  let what = '';
  if (st.isFile()) {
    const content = createHash('sha256');
    await pipeline(createReadStream(host), content);
    what = content.digest('hex');
  } else if (st.isSymbolicLink()) what = await readlink(host);
  else if (type === 'char' || type === 'block') what = String(st.rdev);
  // JSON: a name holding a newline or a NUL cannot pass for two entries.
  const owner = owners ? [st.uid, st.gid] : [];
  out.update(`${JSON.stringify([rel, type, st.mode & 0o7777, ...owner, what])}\n`);
}
