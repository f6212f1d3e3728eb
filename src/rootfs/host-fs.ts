/**
 * node:fs for paths of a rootfs or a build context, with file names as bytes (see
 * `oci/file-names.ts`): a path holding escaped bytes goes to the system as a Buffer of exactly
 * those bytes, and directory listings and link targets come back without loss. Node's own
 * string API would turn a name such as `bad\xffname` into `bad\u{FFFD}name` both ways — a name
 * that vanishes, or worse, one that hits a different file.
 *
 * Same names and signatures as node:fs and node:fs/promises, so that a module switches by its
 * import line. Valid UTF-8 paths (nearly all) pay one native well-formedness scan per call and
 * take Node's fast string path; listings are re-read as bytes only when a name needs it.
 * Descriptor-based calls (fstat, write, close…) take no path and stay with node:fs.
 */
import * as fs from 'node:fs';
import type { PathLike } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { bytesOfName, hasRawBytes, nameFromBytes } from '../oci/file-names.js';

/** The path as the system must see it: bytes where the string holds escaped ones. */
export function systemPath(path: PathLike): PathLike {
  return typeof path === 'string' && hasRawBytes(path) ? bytesOfName(path) : path;
}

type OnePath = (path: PathLike, ...rest: never[]) => unknown;
type TwoPaths = (a: PathLike, b: PathLike, ...rest: never[]) => unknown;

/** `f` with its path argument converted by {@link systemPath}; overloads are kept. */
function onePath<F extends OnePath>(f: F): F {
  return ((path: PathLike, ...rest: never[]) => f(systemPath(path), ...rest)) as F;
}

function twoPaths<F extends TwoPaths>(f: F): F {
  return ((a: PathLike, b: PathLike, ...rest: never[]) => f(systemPath(a), systemPath(b), ...rest)) as F;
}

/** Whether a name may have lost bytes to UTF-8 decoding (U+FFFD stands where they were). */
const maybeLossy = (name: string): boolean => name.includes('\ufffd');

export const lstatSync = onePath(fs.lstatSync);
export const chmodSync = onePath(fs.chmodSync);
export const lchownSync = onePath(fs.lchownSync);
export const lutimesSync = onePath(fs.lutimesSync);
export const openSync = onePath(fs.openSync);
export const rmSync = onePath(fs.rmSync);
export const rmdirSync = onePath(fs.rmdirSync);
export const opendirSync = onePath(fs.opendirSync);
export const unlinkSync = onePath(fs.unlinkSync);
export const linkSync = twoPaths(fs.linkSync);
export const symlinkSync = twoPaths(fs.symlinkSync);
export const createReadStream = onePath(fs.createReadStream);

export const lstat = onePath(fsp.lstat);
export const chmod = onePath(fsp.chmod);
export const lchown = onePath(fsp.lchown);
export const lutimes = onePath(fsp.lutimes);
export const open = onePath(fsp.open);
export const rm = onePath(fsp.rm);
export const link = twoPaths(fsp.link);
export const symlink = twoPaths(fsp.symlink);
export const copyFile = twoPaths(fsp.copyFile);

/** The names in a directory, bytes kept (see the module comment). */
export function readdirSync(path: PathLike): string[] {
  const sys = systemPath(path);
  const names = fs.readdirSync(sys);
  return names.some(maybeLossy) ? fs.readdirSync(sys, { encoding: 'buffer' }).map((b) => nameFromBytes(b)) : names;
}

export async function readdir(path: PathLike): Promise<string[]> {
  const sys = systemPath(path);
  const names = await fsp.readdir(sys);
  return names.some(maybeLossy) ? (await fsp.readdir(sys, { encoding: 'buffer' })).map((b) => nameFromBytes(b)) : names;
}

/** A symlink's target, bytes kept. */
export function readlinkSync(path: PathLike): string {
  const sys = systemPath(path);
  const target = fs.readlinkSync(sys);
  return maybeLossy(target) ? nameFromBytes(fs.readlinkSync(sys, { encoding: 'buffer' })) : target;
}

export async function readlink(path: PathLike): Promise<string> {
  const sys = systemPath(path);
  const target = await fsp.readlink(sys);
  return maybeLossy(target) ? nameFromBytes(await fsp.readlink(sys, { encoding: 'buffer' })) : target;
}

/**
 * mkdir(2). With `recursive`, the first directory made is returned as a prefix of `path` (Node
 * decodes the one it reports as UTF-8, which loses escaped bytes).
 */
export function mkdirSync(path: string, opts?: fs.Mode | fs.MakeDirectoryOptions): string | undefined {
  return firstMade(path, fs.mkdirSync(systemPath(path), opts));
}

export async function mkdir(path: string, opts?: fs.Mode | fs.MakeDirectoryOptions): Promise<string | undefined> {
  return firstMade(path, await fsp.mkdir(systemPath(path), opts));
}

function firstMade(path: string, made: string | undefined): string | undefined {
  if (made === undefined || !hasRawBytes(path)) return made;
  // The same number of components of the path asked for.
  return path.split('/').slice(0, made.split('/').length).join('/');
}
