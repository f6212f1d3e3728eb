/**
 * Kaniko's layer cache flags, read with Kaniko's meaning (issue 15; its cmd/executor/cmd/root.go
 * and pkg/cache): `--cache`, `--cache-repo` (else the first destination's repository + `/cache`,
 * or `oci:DIR` for a local OCI layout), `--cache-dir` (the warmer's base images, default
 * `/cache`), `--cache-ttl` (a Go duration, default two weeks), `--cache-run-layers` (default true),
 * `--cache-copy-layers` (default false), `--no-push-cache`. PURE.
 * `--compressed-caching` is accepted and changes nothing: Kaniko's flag trades memory for CPU when
 * it holds cached layers, and Kiln streams every layer anyway.
 */
import { z } from 'zod';
import { parseGoDuration } from '../dockerfile/duration.js';
import { UsageError } from '../errors.js';
import { parseReference, ReferenceSyntaxError, type Reference } from '../oci/reference.js';

/** The raw cache flags, as commander gives them (config/options.ts). */
export const cacheRawShape = {
  cache: z.boolean().optional(),
  cacheRepo: z.string().optional(),
  cacheDir: z.string().optional(),
  cacheTtl: z.string().optional(),
  cacheCopyLayers: z.boolean().optional(),
  cacheRunLayers: z.boolean().optional(),
  compressedCaching: z.boolean().optional(),
  /** commander's name for `--no-push-cache` (false when it is given). */
  pushCache: z.boolean().default(true),
};

/** Where cache entries live: a registry repository (tagged by key), or a local OCI layout. */
export type CacheRepo = { kind: 'registry'; repository: string } | { kind: 'oci'; dir: string };

/** The cache flags as commander gives them (`pushCache` is false when `--no-push-cache` is given). */
export interface CacheFlags {
  cache?: boolean;
  cacheRepo?: string;
  cacheDir?: string;
  cacheTtl?: string;
  cacheRunLayers?: boolean;
  cacheCopyLayers?: boolean;
  pushCache: boolean;
}

/** The layer cache a build uses. */
export interface CacheOptions {
  enabled: boolean;
  /** Undefined when the cache is off. */
  repo?: CacheRepo;
  /** Base images put there by the warmer. */
  dir: string;
  /** Entries older than this are misses. */
  ttlMs: number;
  runLayers: boolean;
  copyLayers: boolean;
  /** Whether new entries are pushed (`--no-push-cache` turns it off; lookups still happen). */
  push: boolean;
}

/** Kaniko's defaults. */
export const DEFAULT_CACHE_TTL = '336h';
export const DEFAULT_CACHE_DIR = '/cache';

/** The cache options of the flags; `destinations` are the build's `--destination`s, in order. */
export function parseCacheOptions(f: CacheFlags, destinations: readonly Reference[]): CacheOptions {
  const ttl = f.cacheTtl ?? DEFAULT_CACHE_TTL;
  const ns = parseGoDuration(ttl);
  if (ns === undefined || ns <= 0)
    throw new UsageError(`--cache-ttl "${ttl}" is not a positive duration`, {
      hint: 'e.g. 336h (two weeks), 24h, 90m',
    });
  const enabled = f.cache === true;
  return {
    enabled,
    ...(enabled ? { repo: cacheRepo(f.cacheRepo, destinations) } : {}),
    dir: f.cacheDir ?? DEFAULT_CACHE_DIR,
    ttlMs: ns / 1e6,
    runLayers: f.cacheRunLayers ?? true,
    copyLayers: f.cacheCopyLayers ?? false,
    push: f.pushCache,
  };
}

function cacheRepo(given: string | undefined, destinations: readonly Reference[]): CacheRepo {
  if (given?.startsWith('oci:') === true) {
    const dir = given.slice('oci:'.length);
    if (dir === '')
      throw new UsageError('--cache-repo "oci:" names no directory', { hint: 'give --cache-repo oci:/path/to/layout' });
    return { kind: 'oci', dir };
  }
  if (given === undefined) {
    // Kaniko: the cache lives beside the image, in DESTINATION/cache.
    const first = destinations[0];
    if (first === undefined)
      throw new UsageError('--cache needs a --cache-repo, or a --destination to keep the cache beside', {
        hint: 'give --cache-repo REGISTRY/REPO (or oci:DIR for a local cache)',
      });
    return { kind: 'registry', repository: `${first.registry}/${first.repository}/cache` };
  }
  let ref: Reference;
  try {
    ref = parseReference(given);
  } catch (err) {
    if (err instanceof ReferenceSyntaxError) throw new UsageError(`--cache-repo "${given}": ${err.message}`);
    throw err;
  }
  // Entries are tagged by their keys: a repository, never one image (a tag is after the last `/`).
  if (given.includes('@') || /:[^/]*$/.test(given))
    throw new UsageError(`--cache-repo "${given}" names an image, not a repository`, {
      hint: `give it without the tag or digest: ${ref.registry}/${ref.repository}`,
    });
  return { kind: 'registry', repository: `${ref.registry}/${ref.repository}` };
}
