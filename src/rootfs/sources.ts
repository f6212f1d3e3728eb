/**
 * COPY --from sources inside another rootfs (an earlier stage or an image): the pattern's
 * components, wildcards included, are resolved within that root, so a symlink in the source
 * image can never reach the host.
 */
import { lstat, readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import { componentPattern, hasWildcard } from '../dockerfile/source-pattern.js';
import type { Rootfs } from './rootfs.js';

export interface RootfsSource {
  /** Host path, the final symlink followed inside the root (Docker follows a top-level symlink). */
  hostPath: string;
  /** The matched image path. */
  imagePath: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw fsError(`reading ${p}`, err);
  }
}

/** The image paths `pattern` names in `rootfs` (empty when none exist). */
export async function matchRootfsSources(rootfs: Rootfs, pattern: string): Promise<RootfsSource[]> {
  let candidates = ['/'];
  for (const part of posix.resolve('/', pattern).split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!hasWildcard(part)) {
        next.push(posix.join(dir, part));
        continue;
      }
      const re = componentPattern(part);
      let names: string[] = [];
      try {
        names = (await readdir(await rootfs.resolve(dir, { followFinal: true }))).sort();
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw fsError(`listing ${dir}`, err);
      }
      for (const n of names) if (re.test(n)) next.push(posix.join(dir, n));
    }
    candidates = next;
  }
  const out: RootfsSource[] = [];
  for (const imagePath of candidates) {
    const hostPath = await rootfs.resolve(imagePath, { followFinal: true });
    if (await exists(hostPath)) out.push({ hostPath, imagePath });
  }
  return out;
}
