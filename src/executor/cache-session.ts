/**
 * The layer cache of one build (issue 15): opened from `--cache`/`--cache-repo` on the build's
 * push client (Kaniko pushes cache layers with the destination's credentials and TLS settings),
 * shared by the stages (stage-cache.ts), and drained at the end: the build waits for the entries
 * still being stored, whose failures were warnings already.
 */
import { resolve } from 'node:path';
import type { LayerCache } from '../cache/layer-cache.js';
import type { CacheOptions } from '../config/cache-options.js';
import { ociLayoutLayerCache } from '../image/oci-layout-layer-cache.js';
import { registryLayerCache } from '../image/registry-layer-cache.js';
import type { BuildEnv } from './build-env.js';
import type { RegistryClients } from './clients.js';

/** What the build's stages share of the cache: where it is, the flags, and the entries still being stored. */
export interface CacheSession {
  cache: LayerCache;
  options: CacheOptions;
  /** Stores under way; the build waits for them before it ends (those that failed were warnings). */
  stores: Set<Promise<void>>;
}

/** The build's cache, or undefined without `--cache`. */
export function openCacheSession(env: BuildEnv, clients: RegistryClients): CacheSession | undefined {
  const options = env.options.cache;
  const repo = options.repo;
  if (!options.enabled || !repo) return undefined;
  const cache =
    repo.kind === 'oci'
      ? ociLayoutLayerCache({ dir: resolve(env.cwd, repo.dir) })
      : registryLayerCache({ client: clients.push, repository: repo.repository, logger: env.logger });
  env.logger.info(`layer cache: ${cache.where}${options.push ? '' : ' (--no-push-cache: looked up, nothing stored)'}`);
  return { cache, options, stores: new Set() };
}

/** Waits for the entries still being stored. */
export async function drainCacheSession(session: CacheSession | undefined): Promise<void> {
  while (session && session.stores.size > 0) await Promise.allSettled([...session.stores]);
}
