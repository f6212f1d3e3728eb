import { readFile, stat } from 'node:fs/promises';
import { errnoCode, fsError, IntegrityError } from '../errors.js';
import type { Rootfs } from './rootfs.js';

/** Small configuration files only (/etc/passwd, /etc/group): a bigger one is refused, not buffered. */
const MAX_BYTES = 4 * 1024 * 1024;

/** Reads a small text file of the image, following symlinks inside the rootfs; undefined when absent. */
export async function readRootfsFile(rootfs: Rootfs, imagePath: string): Promise<string | undefined> {
  try {
    const host = await rootfs.resolve(imagePath, { followFinal: true });
    if ((await stat(host)).size > MAX_BYTES) throw new IntegrityError(`${imagePath} in the image is larger than ${MAX_BYTES} bytes`);
    return await readFile(host, 'utf8');
  } catch (err) {
    if (err instanceof IntegrityError) throw err;
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR' || errnoCode(err) === 'EISDIR') return undefined;
    throw fsError(`reading ${imagePath} in the rootfs`, err);
  }
}
