/**
 * A filtered view of a directory of the build context, for `RUN --mount=type=bind`: BuildKit
 * never exposes a `.dockerignore`d file to the build (the context it mounts is the one the client
 * sent, already filtered), so Kiln mounts a copy of the source's tree that holds only what the
 * filter keeps. The copy is cheap: directories are made, regular files hardlinked (copied only
 * when the view is on another filesystem), symlinks recreated as they are. Its cost grows with the
 * mounted subtree, not with the bytes in it, and subtrees the filter cannot touch are walked
 * without asking it.
 *
 * Hardlinks share the context's inodes, which is safe because the view is only ever mounted
 * read-only, or as the lower layer of an overlay: overlayfs copies a file up to the upper layer
 * before any write or metadata change, and never writes to a lower inode.
 *
 * The walk never follows a symlink (lstat semantics from readdir's entry types), and names are
 * handled as bytes, so a name that is not valid UTF-8 is linked as it is; the filter sees its
 * UTF-8 decoding.
 */
import type { Stats } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  rmdir,
  symlink,
  utimes,
} from 'node:fs/promises';
import { errnoCode, fsError } from '../errors.js';
import type { PathFilter } from './path-filter.js';

const SLASH = Buffer.from('/');
const child = (dir: Buffer, name: Buffer): Buffer => Buffer.concat([dir, SLASH, name]);

/** Counts of what a view holds, for the debug log. */
export interface ViewStats {
  dirs: number;
  files: number;
  symlinks: number;
  /** Files copied because a hardlink could not be made (another filesystem). */
  copied: number;
  /** Sockets, FIFOs and devices, which a view leaves out as the context transfer does. */
  skipped: number;
}

/** Why link(2) fails where a copy still works: another filesystem, a hardlink policy, too many links. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK']);

/** A directory {@link ViewBuilder.dir} makes a view of. */
interface ViewDir {
  /** Its path in the context. */
  rel: string;
  /** Whether the filter may leave out something below. */
  filtered: boolean;
  /** A directory the filter leaves out but an exception may reach into, kept only if something below it is. */
  optional: boolean;
}

class ViewBuilder {
  readonly stats: ViewStats = { dirs: 0, files: 0, symlinks: 0, copied: 0, skipped: 0 };
  /** Set after the first EXDEV: every later link would fail the same way. */
  private copyOnly = false;

  constructor(private readonly filter: PathFilter) {}

  /**
   * Makes `dst` as a view of directory `src` (see {@link ViewDir} for `how`). Returns whether
   * `dst` exists.
   */
  async dir(src: Buffer, dst: Buffer, how: ViewDir): Promise<boolean> {
    const { rel, filtered, optional } = how;
    const st = await lstat(src);
    await mkdir(dst, { mode: 0o700 });
    let made = 0;
    for (const e of await readdir(src, { withFileTypes: true, encoding: 'buffer' })) {
      const name = e.name.toString('utf8');
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const from = child(src, e.name);
      const to = child(dst, e.name);
      const isDir = e.isDirectory();
      const verdict = filtered ? this.filter.verdict(childRel, isDir) : 'include';
      if (verdict === 'exclude') continue;
      if (isDir) {
        const below = verdict === 'descend' || (filtered && this.filter.mayExcludeWithin(childRel));
        if (await this.dir(from, to, { rel: childRel, filtered: below, optional: verdict === 'descend' })) made++;
      } else if (e.isFile()) {
        await this.file(from, to);
        made++;
      } else if (e.isSymbolicLink()) {
        await this.symlink(from, to);
        made++;
      } else {
        this.stats.skipped++;
      }
    }
    if (optional && made === 0) {
      await rmdir(dst);
      return false;
    }
    await sameMeta(dst, st);
    this.stats.dirs++;
    return true;
  }

  private async file(from: Buffer, to: Buffer): Promise<void> {
    this.stats.files++;
    if (!this.copyOnly) {
      try {
        await link(from, to);
        return;
      } catch (err) {
        const code = errnoCode(err) ?? '';
        if (!NO_LINK.has(code)) throw err;
        if (code === 'EXDEV') this.copyOnly = true;
      }
    }
    await copyFile(from, to);
    await sameMeta(to, await lstat(from));
    this.stats.copied++;
  }

  private async symlink(from: Buffer, to: Buffer): Promise<void> {
    const st = await lstat(from);
    await symlink(await readlink(from, { encoding: 'buffer' }), to);
    await lchown(to, st.uid, st.gid);
    await lutimes(to, st.atime, st.mtime);
    this.stats.symlinks++;
  }
}

/** Gives a made directory or copied file the source's mode, owner and times. */
async function sameMeta(path: Buffer, st: Stats): Promise<void> {
  await chown(path, st.uid, st.gid);
  await chmod(path, st.mode & 0o7777);
  await utimes(path, st.atime, st.mtime);
}

/**
 * Makes `dest` (which must not exist) a view of the context directory `source`, whose path
 * relative to the context root is `rel` ('' for the root): everything below it that `filter`
 * keeps, as the filter sees paths relative to the context root. Fails with a FilesystemError.
 */
export async function makeFilteredView(
  source: string,
  rel: string,
  filter: PathFilter,
  dest: string,
): Promise<ViewStats> {
  const builder = new ViewBuilder(filter);
  try {
    await builder.dir(Buffer.from(source), Buffer.from(dest), {
      rel,
      filtered: filter.mayExcludeWithin(rel),
      optional: false,
    });
  } catch (err) {
    throw fsError(`making the .dockerignore-filtered view of ${source} for a bind mount`, err);
  }
  return builder.stats;
}
