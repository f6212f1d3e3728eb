/**
 * Reads small configuration files of an image (/etc/passwd, /etc/group) that Kiln itself must
 * parse. The image is untrusted: the path must be a regular file, and is read with a cap. A FIFO
 * would block an open(2) or read(2) forever and a character device (/dev/zero) never ends, so
 * the type is checked with lstat before opening, and again with fstat on the descriptor opened
 * `O_NONBLOCK|O_NOFOLLOW` (a swap between the two cannot slip a FIFO or a symlink in).
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { errnoCode, fsError, IntegrityError } from '../errors.js';
import type { Rootfs } from './rootfs.js';

/** Small configuration files only: a bigger one is refused, never buffered (ARCHITECTURE.md §4). */
export const MAX_IMAGE_FILE_BYTES = 1024 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** What a non-regular file is, for the message. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a file';
}

/** The IntegrityError for an image file that is not what Kiln can read. */
function hostile(imagePath: string, why: string): IntegrityError {
  return new IntegrityError(`${imagePath} in the image is ${why}`);
}

function checkRegular(imagePath: string, st: Stats): void {
  if (!st.isFile()) throw hostile(imagePath, `${kindOf(st)}, not a regular file`);
  if (st.size > MAX_IMAGE_FILE_BYTES) throw hostile(imagePath, `larger than ${MAX_IMAGE_FILE_BYTES} bytes`);
}

/**
 * Reads a small text file of the image, following symlinks inside the rootfs; undefined when
 * absent. Anything but a regular file of at most {@link MAX_IMAGE_FILE_BYTES} is an
 * IntegrityError (exit 5) naming the path: an image that puts a FIFO or a device there is hostile.
 */
export async function readRootfsFile(rootfs: Rootfs, imagePath: string): Promise<string | undefined> {
  let host: string;
  let before: Stats;
  try {
    host = await rootfs.resolve(imagePath, { followFinal: true });
    before = await lstat(host);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw fsError(`reading ${imagePath} in the rootfs`, err);
  }
  checkRegular(imagePath, before);
  let fh;
  try {
    fh = await open(host, OPEN_FLAGS);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') throw hostile(imagePath, 'a symlink swapped in while it was being read');
    throw fsError(`reading ${imagePath} in the rootfs`, err);
  }
  try {
    const st = await fh.stat();
    checkRegular(imagePath, st);
    if (st.ino !== before.ino || st.dev !== before.dev) throw hostile(imagePath, 'replaced while it was being read');
    // One byte more than the cap: a file that grew past it since fstat is refused too.
    const buf = Buffer.alloc(MAX_IMAGE_FILE_BYTES + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > MAX_IMAGE_FILE_BYTES) throw hostile(imagePath, `larger than ${MAX_IMAGE_FILE_BYTES} bytes`);
    }
    return buf.toString('utf8', 0, got);
  } catch (err) {
    if (err instanceof IntegrityError) throw err;
    throw fsError(`reading ${imagePath} in the rootfs`, err);
  } finally {
    await fh.close();
  }
}
