/**
 * The lock writers of one OCI layout take around the read-modify-write of its `index.json`
 * (issue 15: builds sharing `--cache-repo oci:DIR`, possibly on a shared volume, must not lose
 * each other's tags). It is a lock file made with O_CREAT|O_EXCL (atomic on local filesystems and
 * NFSv3+), not `flock`, which Node does not offer and which NFS and some volume drivers do not
 * honour; O_NOFOLLOW so a planted symlink cannot redirect it. A writer that died holding it leaves
 * the file behind: past {@link LockTimings.staleMs} it is taken away, by a rename only one
 * breaker can win. Holders keep it for a few milliseconds (read, write a temp file, rename).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, FilesystemError } from '../errors.js';

/** How long to wait for a lock, and when a lock counts as left behind by a dead writer. */
export interface LockTimings {
  /** Give up after this long (a FilesystemError naming the lock file). */
  timeoutMs: number;
  /** A lock file older than this is broken. */
  staleMs: number;
}

const DEFAULT_TIMINGS: LockTimings = { timeoutMs: 60_000, staleMs: 30_000 };

const LOCK_FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

/** Tries to create the lock file; false when another writer holds it. */
async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, LOCK_FLAGS, 0o644);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Takes away the stale lock file whose inode is `ino`: renamed aside (only one breaker's rename
 * finds it), then, if what was renamed is a newer lock some writer made meanwhile, linked back.
 */
async function breakStale(path: string, ino: number): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  try {
    if ((await lstat(aside)).ino !== ino) await link(aside, path).catch(() => {});
  } finally {
    await unlink(aside).catch(() => {});
  }
}

/** Runs `fn` holding the lock file `path`; the file is removed afterwards, whatever `fn` did. */
export async function withLockFile<T>(
  path: string,
  fn: () => Promise<T>,
  timings: LockTimings = DEFAULT_TIMINGS,
): Promise<T> {
  const deadline = Date.now() + timings.timeoutMs;
  while (!(await tryCreate(path))) {
    let st;
    try {
      st = await lstat(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue; // released between our open and lstat
      throw err;
    }
    if (Date.now() - st.mtimeMs > timings.staleMs) {
      await breakStale(path, st.ino);
      continue;
    }
    if (Date.now() > deadline)
      throw new FilesystemError(`waiting for the lock ${path}: another writer has held it for too long`, {
        hint: `if no build is writing there, remove ${path}`,
      });
    await sleep(5 + Math.floor(Math.random() * 20));
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}
