/**
 * `ADD <git repository>` (Dockerfile reference, "Adding files from a Git repository"): the ref
 * named by `#ref:subdir` (the remote's HEAD by default) is fetched with the host's git into
 * scratch space outside the rootfs, and the checkout — or its `subdir` — is copied into
 * `<dest>` as a directory, without the `.git` directory unless `--keep-git-dir`. Files belong to
 * root unless `--chown`. For reproducible layers Kiln gives every file the commit's time as its
 * mtime and git's own modes (0644, or 0755 when executable) unless `--chmod`, instead of the
 * moment and umask of the checkout. `--checksum` names the commit expected.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { fsError, IntegrityError, StepError } from '../errors.js';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import type { GitSource } from '../context/remote-source.js';
import { fetchGitRef, GitFailed } from '../exec/git.js';
import { copyIntoRootfs, type Selector } from '../rootfs/copy-in.js';
import type { Owner } from '../rootfs/mkdir.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { statInTree } from '../rootfs/sources.js';
import type { ChmodFn } from './copy-chmod.js';

/** One git source of an ADD. */
export interface GitItem {
  source: GitSource;
  destDir: string;
  owner: Owner;
  chmod?: ChmodFn;
  keepGitDir: boolean;
  /** `--checksum`: the commit id (or a prefix of it) the ref must resolve to. */
  commit?: string;
  /** `--exclude` patterns, on paths relative to the copied directory. */
  select?: Selector;
}

/** What a git fetch needs from the build. */
export interface GitIO {
  signal: AbortSignal;
  env: Readonly<Record<string, string | undefined>>;
  tmpDir: string;
}

/** git's own notion of a file mode: executable or not. */
const gitMode: ChmodFn = (mode, isDir) => (isDir || (mode & 0o111) !== 0 ? 0o755 : 0o644);

/** Fetches and copies one git source; returns the image paths written. */
export async function addGit(ins: CopyInstruction, rootfs: Rootfs, item: GitItem, io: GitIO): Promise<string[]> {
  const scratch = await mkdtemp(join(io.tmpDir, 'kiln-git-')).catch((err: unknown) => {
    throw fsError(`creating a checkout directory in ${io.tmpDir}`, err);
  });
  const where = `${item.source.remote}${item.source.ref ? `#${item.source.ref}` : ''}`;
  try {
    let checkout;
    try {
      checkout = await fetchGitRef(item.source.remote, item.source.ref, scratch, io);
    } catch (err) {
      if (err instanceof GitFailed)
        throw new StepError(`ADD failed: fetching ${where}: ${err.message}`, ins.at, { cause: err });
      throw err;
    }
    if (item.commit !== undefined && !checkout.commit.startsWith(item.commit)) {
      throw new IntegrityError(
        `${ins.at.file}:${ins.at.line}: ADD ${where}: checksum mismatch: expected commit ${item.commit}, got ${checkout.commit}`,
      );
    }
    const repo = new Rootfs(scratch);
    const sub = await statInTree(repo, posix.resolve('/', item.source.subdir ?? '/'));
    if (!sub?.isDir)
      throw new StepError(`ADD failed: ${where}: no directory ${item.source.subdir ?? '/'} in the repository`, ins.at);
    const atRoot = sub.resolvedPath === '/';
    const select: Selector = (rel, isDir) => {
      if (atRoot && !item.keepGitDir && (rel === '.git' || rel.startsWith('.git/'))) return 'exclude';
      return item.select ? item.select(rel, isDir) : 'include';
    };
    return await copyIntoRootfs(rootfs, sub.hostPath, item.destDir, {
      owner: item.owner,
      mode: item.chmod ?? gitMode,
      ...(item.chmod?.octal !== undefined ? { newDirMode: item.chmod.octal } : {}),
      mtime: checkout.time,
      select,
      links: new Map(),
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
