import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

/** The first executable named `name` in the directories of `pathEnv` (a PATH value), as a shell finds it. */
export async function findOnPath(name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(':').filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
