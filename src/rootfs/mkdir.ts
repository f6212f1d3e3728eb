/** `mkdir -p` inside the rootfs, reporting which directories it created (they belong in the layer). */
import { lstat, mkdir } from './host-fs.js';
import { posix } from 'node:path';
import { errnoCode, fsError, StepError } from '../errors.js';
import type { Owner } from './ownership.js';
import type { Rootfs } from './rootfs.js';

export type { Owner } from './ownership.js';

/**
 * Creates `imagePath` and its missing parents (mode 0755, owned by `owner`), following symlinks
 * inside the rootfs as a chrooted `mkdir -p` would. Returns the image paths it created, parents
 * first. A non-directory in the way is a step error.
 */
export async function mkdirAll(
  rootfs: Rootfs,
  imagePath: string,
  owner: Owner = { uid: 0, gid: 0 },
): Promise<string[]> {
  const created: string[] = [];
  const parts = posix.resolve('/', imagePath).split('/').filter(Boolean);
  let current = '/';
  for (const part of parts) {
    current = posix.join(current, part);
    const host = await rootfs.resolve(current, { followFinal: true });
    try {
      if (!(await lstat(host)).isDirectory())
        throw new StepError(`cannot create directory ${imagePath}: ${current} exists and is not a directory`);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT')
        throw err instanceof StepError ? err : fsError(`creating ${imagePath} in the rootfs`, err);
      try {
        await mkdir(host, { mode: 0o755 });
        await rootfs.ownership.set(host, owner);
      } catch (e) {
        throw fsError(`creating ${current} in the rootfs`, e);
      }
      created.push(current);
    }
  }
  return created;
}
