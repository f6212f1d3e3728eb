/**
 * Reads build secrets given with `--secret` (config/secret-options.ts) when a RUN mounts them:
 * a file of the host (relative paths from the executor's working directory) or a variable of
 * the executor's environment. Values are returned to the mount code only, never logged.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SecretSource } from '../config/secret-options.js';
import { errnoCode, UsageError } from '../errors.js';

/** A lookup of secret values by id; undefined for an id no `--secret` gave. */
export function secretReader(
  secrets: ReadonlyMap<string, SecretSource>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): (id: string) => Promise<Buffer | undefined> {
  return async (id) => {
    const source = secrets.get(id);
    if (source === undefined) return undefined;
    if (source.kind === 'env') {
      const value = env[source.name];
      return value === undefined ? undefined : Buffer.from(value, 'utf8');
    }
    const path = resolve(cwd, source.path);
    try {
      return await readFile(path);
    } catch (err) {
      throw new UsageError(
        `--secret id=${id}: cannot read ${path}: ${errnoCode(err) === 'ENOENT' ? 'no such file' : (errnoCode(err) ?? 'read failed')}`,
        { cause: err },
      );
    }
  };
}
