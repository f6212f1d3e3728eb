/**
 * Reads what an in-place build (`--rootfs=/`) decides on: the container markers and the mount
 * table of this process. The weighing is pure (`container.ts`, `in-place.ts`); this is the edge.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerFacts } from './container.js';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function textOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined; // no /proc (a strange sandbox): the signal is simply absent
  }
}

/**
 * The facts {@link detectContainer} weighs: marker files under `root` (`/` in real use),
 * `env` as given, `/proc/1/cgroup` and `/proc/self/mountinfo` under `proc`.
 */
export async function readContainerFacts(
  env: Readonly<Record<string, string | undefined>>,
  root = '/',
  proc = '/proc',
): Promise<ContainerFacts> {
  const [dockerenv, containerenv, cgroup, mountinfo] = await Promise.all([
    exists(join(root, '.dockerenv')),
    exists(join(root, 'run', '.containerenv')),
    textOrUndefined(join(proc, '1', 'cgroup')),
    textOrUndefined(join(proc, 'self', 'mountinfo')),
  ]);
  return {
    dockerenv,
    containerenv,
    env: { container: env.container, KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST },
    ...(cgroup !== undefined ? { cgroup } : {}),
    ...(mountinfo !== undefined ? { mountinfo } : {}),
  };
}
