/**
 * Kiln's persistent state between builds (RUN cache mounts; later the layer cache) lives in a
 * directory only Kiln's user can reach: `--kaniko-dir` if given, else `/var/cache/kiln` as root,
 * else `$XDG_CACHE_HOME/kiln` (or `~/.cache/kiln`) for another user. Kiln runs as root and
 * writes there with root's rights, so a path another local user could have planted — a symlink,
 * a directory they own, a world-writable parent — would give them root writes wherever they
 * point it, or let them read and poison the cache (issue 11, finding 3). So every component is
 * checked from `/` down before use, nothing is fixed silently, and entries below are made with
 * mkdir (never following a symlink) and lock files opened `O_NOFOLLOW`.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { errnoCode, FilesystemError, fsError } from '../errors.js';

/** What the state directory's place depends on. */
export interface StateDirInput {
  /** `--kaniko-dir`, relative to `cwd` when not absolute. */
  kanikoDir: string | undefined;
  cwd: string;
  /** The process environment (XDG_CACHE_HOME). */
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** The effective uid Kiln runs as ({@link currentEuid}). */
  euid: number;
}

/** The effective uid of this process: the owner Kiln's state must have. */
export function currentEuid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * Where Kiln keeps state between builds. Never the shared temp dir: another user could plant it.
 * The XDG Base Directory spec ignores a relative `XDG_CACHE_HOME`, and so does Kiln.
 */
export function stateDirPath(i: StateDirInput): string {
  if (i.kanikoDir !== undefined) return resolve(i.cwd, i.kanikoDir);
  if (i.euid === 0) return '/var/cache/kiln';
  const xdg = i.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(i.homeDir, '.cache'), 'kiln');
}

/** The sticky bit (inode(7) S_ISVTX; Node's fs.constants lacks it). */
const S_ISVTX = 0o1000;

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** What is wrong with a directory on the way to the state (`/`, `/var`, …, the state dir itself), or undefined. */
function parentProblem(st: Stats, euid: number): string | undefined {
  if (st.isSymbolicLink()) return 'is a symlink (Kiln reaches its state without symlinks: pass the real path)';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== 0 && st.uid !== euid)
    return `is owned by uid ${st.uid}, expected ${euid === 0 ? '0' : `0 or ${euid}`}`;
  // Like /tmp: others may create entries, but only the owner of one may rename or remove it.
  const sharedButSticky = (st.mode & S_ISVTX) !== 0 && st.uid === 0;
  if ((st.mode & 0o022) !== 0 && !sharedButSticky) return `is writable by group or others (mode ${octal(st.mode)})`;
  return undefined;
}

/** What is wrong with a private directory of the state (the cache root), or undefined. */
function privateProblem(st: Stats, euid: number): string | undefined {
  if (st.isSymbolicLink()) return 'is a symlink';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== euid) return `is owned by uid ${st.uid}, expected ${euid}`;
  if ((st.mode & 0o077) !== 0) return `has mode ${octal(st.mode)}, expected 0700 (no access for group or others)`;
  return undefined;
}

function refuse(path: string, problem: string): FilesystemError {
  return new FilesystemError(`unsafe state directory: ${path} ${problem}`, {
    hint: 'Kiln keeps RUN cache mounts there and writes to it as its own user; remove or fix it, or pass another --kaniko-dir',
  });
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(`checking ${path}`, err);
  }
}

/**
 * Makes sure the absolute `dir` is a private directory of Kiln's user (owner euid, mode 0700)
 * reached from `/` only through directories no other user can change: each component is a real
 * directory (lstat: no symlinks), owned by root or euid, not writable by group or others unless
 * root-owned and sticky (`/tmp`). Missing components are made 0700 one at a time (mkdir never
 * follows a symlink) and checked like the others. Anything wrong is a FilesystemError naming the
 * path; nothing is changed to make it fit. Returns `dir`.
 */
export async function ensurePrivateDir(dir: string, euid: number = currentEuid()): Promise<string> {
  if (!isAbsolute(dir)) throw new Error(`ensurePrivateDir needs an absolute path, got ${dir}`);
  const parts = dir.split('/').filter((p) => p !== '');
  let path = '/';
  for (const [i, part] of ['', ...parts].entries()) {
    path = part === '' ? '/' : join(path, part);
    let st = await lstatOrUndefined(path);
    if (!st) {
      await mkdir(path, { mode: 0o700 }).catch((err: unknown) => {
        // Made meanwhile by someone else: checked below like anything found.
        if (errnoCode(err) !== 'EEXIST') throw fsError(`creating ${path}`, err);
      });
      st = await lstat(path).catch((err: unknown) => {
        throw fsError(`checking ${path}`, err);
      });
    }
    const problem = i === parts.length ? privateProblem(st, euid) : parentProblem(st, euid);
    if (problem) throw refuse(path, problem);
  }
  return dir;
}

/**
 * Makes (or finds) directory `name` inside `parent`, a directory checked by
 * {@link ensurePrivateDir}. A symlink or anything but a directory there is refused. The owner is
 * not checked: a RUN step may chown the cache it mounts, as BuildKit lets it. Returns whether it
 * was made now (its mode and owner are then the caller's to set).
 */
export async function stateEntryDir(parent: string, name: string): Promise<{ path: string; made: boolean }> {
  const path = join(parent, name);
  let made = true;
  await mkdir(path, { mode: 0o700 }).catch((err: unknown) => {
    if (errnoCode(err) !== 'EEXIST') throw fsError(`creating ${path}`, err);
    made = false;
  });
  const st = await lstat(path).catch((err: unknown) => {
    throw fsError(`checking ${path}`, err);
  });
  if (st.isSymbolicLink()) throw refuse(path, 'is a symlink');
  if (!st.isDirectory()) throw refuse(path, 'is not a directory');
  return { path, made };
}

/**
 * Creates or opens the lock file `path` (in a directory checked by {@link ensurePrivateDir})
 * without following a symlink or blocking on a FIFO, and checks that it is a regular file of
 * euid. Returns `path`, for the runner to lock.
 */
export async function stateLockFile(path: string, euid: number = currentEuid()): Promise<string> {
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') throw refuse(path, 'is a symlink');
    if (errnoCode(err) === 'ENXIO' || errnoCode(err) === 'EISDIR') throw refuse(path, 'is not a regular file');
    throw fsError(`opening the lock file ${path}`, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse(path, 'is not a regular file');
    if (st.uid !== euid) throw refuse(path, `is owned by uid ${st.uid}, expected ${euid}`);
    return path;
  } finally {
    await fh.close();
  }
}
