import { describe, expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import { parseCacheOptions, type CacheFlags } from './cache-options.js';

const DEST = [parseReference('registry.example:5000/team/app:1.2'), parseReference('other.example/app:1')];
const flags = (f: Partial<CacheFlags> = {}): CacheFlags => ({ pushCache: true, ...f });
const TWO_WEEKS_MS = 14 * 24 * 3600 * 1000;

describe('parseCacheOptions', () => {
  test("Kaniko's defaults: off, /cache, two weeks, RUN layers cached, COPY layers not, entries pushed", () => {
    expect(parseCacheOptions(flags(), DEST)).toEqual({
      enabled: false,
      dir: '/cache',
      ttlMs: TWO_WEEKS_MS,
      runLayers: true,
      copyLayers: false,
      push: true,
    });
  });

  test.each<[string, Partial<CacheFlags>, unknown]>([
    [
      'inferred beside the first destination',
      {},
      { kind: 'registry', repository: 'registry.example:5000/team/app/cache' },
    ],
    [
      'a repository given',
      { cacheRepo: 'cache.example/ci/layers' },
      { kind: 'registry', repository: 'cache.example/ci/layers' },
    ],
    ['a short Docker Hub name', { cacheRepo: 'me/cache' }, { kind: 'registry', repository: 'docker.io/me/cache' }],
    ['a local OCI layout', { cacheRepo: 'oci:/var/cache/kiln' }, { kind: 'oci', dir: '/var/cache/kiln' }],
  ])('--cache: %s', (_what, f, repo) => {
    expect(parseCacheOptions(flags({ cache: true, ...f }), DEST).repo).toEqual(repo);
  });

  test('--cache-ttl in Go syntax, --no-push-cache, the layer kinds and --cache-dir are read as given', () => {
    const o = parseCacheOptions(
      flags({ cacheTtl: '1h30m', pushCache: false, cacheRunLayers: false, cacheCopyLayers: true, cacheDir: '/w/c' }),
      DEST,
    );
    expect(o).toMatchObject({ ttlMs: 90 * 60 * 1000, push: false, runLayers: false, copyLayers: true, dir: '/w/c' });
  });

  test.each<[string, Partial<CacheFlags>, readonly ReturnType<typeof parseReference>[], RegExp]>([
    [
      'a TTL that is no duration',
      { cacheTtl: 'two weeks' },
      DEST,
      /^--cache-ttl "two weeks" is not a positive duration$/,
    ],
    ['a TTL of zero', { cacheTtl: '0' }, DEST, /^--cache-ttl "0" is not a positive duration$/],
    ['no repository and no destination', { cache: true }, [], /^--cache needs a --cache-repo, or a --destination/],
    [
      'an image for the repository',
      { cache: true, cacheRepo: 'r.example/c:latest' },
      DEST,
      /names an image, not a repository$/,
    ],
    [
      'a malformed repository',
      { cache: true, cacheRepo: 'https://r.example/c' },
      DEST,
      /^--cache-repo "https:\/\/r\.example\/c": /,
    ],
    ['oci: without a directory', { cache: true, cacheRepo: 'oci:' }, DEST, /^--cache-repo "oci:" names no directory$/],
  ])('%s is a usage error', (_what, f, dest, message) => {
    const run = () => parseCacheOptions(flags(f), dest);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
  });
});
