/**
 * The layer cache scenarios of issue 15: a Node-style app (a base, `COPY` of the manifest, a heavy
 * `RUN` standing for `npm ci`, `COPY` of the sources, a light `RUN` standing for the app's own
 * build), built cold, rebuilt unchanged and rebuilt after one source file changed, each rebuild
 * from a fresh local state (a new CI pod) with only the registry cache to go on.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrepareEnv } from './scenarios.js';

/** The three builds of a cache run, in order. */
export const PHASES = ['cold', 'unchanged', 'changed'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Who builds: Kiln with Kaniko's defaults (`--cache=true`, COPY not cached:
 * `--cache-copy-layers=false`), Kiln caching COPY too, Kiln without the cache (a baseline, only
 * when BENCH_TOOLS names it), and Buildah with the same registry repository as its cache.
 */
export const CACHE_SIDES = ['kiln', 'kiln-copy', 'kiln-nocache', 'buildah'] as const;
export type CacheSide = (typeof CACHE_SIDES)[number];
/** The sides a cache scenario runs when BENCH_TOOLS does not say. */
export const DEFAULT_CACHE_SIDES: CacheSide[] = ['kiln', 'kiln-copy', 'buildah'];

export interface CacheScenario {
  name: string;
  what: string;
  /** Writes `dir/Dockerfile` and the context into `dir`; resolves to the build args. */
  prepare(dir: string, env: PrepareEnv): Promise<Record<string, string>>;
  /** Changes one source file in `dir` (run `run`'s change), before the `changed` build. */
  change(dir: string, run: number): Promise<void>;
  /** Undoes {@link change}, so the next run's cold build sees the original context. */
  restore(dir: string): Promise<void>;
  /**
   * For each side, the layers of the final image (by index, base first) an unchanged rebuild may
   * download: what the steps it reruns need under them. Any other layer GET misses the target.
   */
  unchangedMayFetch: Partial<Record<CacheSide, number[]>>;
}

/** Executor flags of a Kiln side, with `repo` as its cache repository. */
export function kilnCacheFlags(side: CacheSide, repo: string): string[] {
  if (side === 'kiln-nocache') return [];
  const flags = ['--cache=true', '--cache-repo', repo];
  return side === 'kiln-copy' ? [...flags, '--cache-copy-layers=true'] : flags;
}

const PACKAGES = 500;
const FILES_PER_PACKAGE = 10;
/**
 * MiB hashed by busybox `sha256sum` in the heavy RUN: about 10 s of CPU (dd's copy plus the hash)
 * on the 2-core bench VM, measured 2026-12-03 (1,500 MiB: 7.6 s user + 3.4 s system).
 */
const BURN_MIB = 1400;
const SOURCES = 20;

const MANIFEST = {
  name: 'bench-app',
  version: '1.0.0',
  private: true,
  dependencies: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`dep-${i}`, `^${i}.0.0`])),
};

/** `npm ci`'s stand-in: 5,000 small files under node_modules, then a CPU burn, output kept. */
const HEAVY_RUN =
  'RUN mkdir -p /app/node_modules && cd /app/node_modules && p=0 && ' +
  `while [ $p -lt ${PACKAGES} ]; do mkdir p$p && f=0 && ` +
  `while [ $f -lt ${FILES_PER_PACKAGE} ]; do echo "module.exports = '$p/$f';" > p$p/f$f.js; f=$((f + 1)); done; ` +
  'p=$((p + 1)); done && ' +
  `dd if=/dev/zero bs=1M count=${BURN_MIB} 2>/dev/null | sha256sum > /app/node_modules/.burn && ` +
  'cp /app/package.json /app/node_modules/.package-lock.json';

/** The app's own build's stand-in: one bundle of the sources. */
const LIGHT_RUN = 'RUN mkdir -p /app/dist && cat /app/src/*.js > /app/dist/bundle.js && wc -l /app/dist/bundle.js';

const source = (i: number): string =>
  `// module ${i} of the bench app\nexport function f${i}(x) {\n  return x * ${i} + 1;\n}\n`.repeat(8);

const CHANGED = 'src/m0.js';

function nodeApp(name: string, what: string): CacheScenario {
  return {
    name,
    what,
    async prepare(dir, env) {
      await mkdir(join(dir, 'src'), { recursive: true });
      await writeFile(join(dir, 'package.json'), JSON.stringify(MANIFEST, null, 2) + '\n');
      for (let i = 0; i < SOURCES; i++) await writeFile(join(dir, 'src', `m${i}.js`), source(i));
      await writeFile(
        join(dir, 'Dockerfile'),
        [
          'ARG BASE',
          'FROM ${BASE}',
          'COPY package.json /app/package.json',
          HEAVY_RUN,
          'COPY src /app/src',
          LIGHT_RUN,
          'CMD ["cat", "/app/dist/bundle.js"]',
          '',
        ].join('\n'),
      );
      return { BASE: env.busybox };
    },
    async change(dir, run) {
      const path = join(dir, CHANGED);
      await writeFile(path, (await readFile(path, 'utf8')) + `// changed in run ${run}\n`);
    },
    async restore(dir) {
      await writeFile(join(dir, CHANGED), source(0));
    },
    // Final image layers: 0 base, 1 COPY package.json, 2 heavy RUN, 3 COPY src, 4 light RUN.
    // Kaniko's default reruns both COPYs; the second copies onto the heavy RUN's files, so those
    // layers (0, 2) may be needed. With COPY cached too, every step hits: nothing to download.
    unchangedMayFetch: { kiln: [0, 2], 'kiln-copy': [] },
  };
}

export const CACHE_SCENARIOS: CacheScenario[] = [
  nodeApp(
    'cache-node',
    `Node-style app: COPY package.json, RUN writing ${PACKAGES * FILES_PER_PACKAGE} files + ~10 s CPU, COPY src, light RUN`,
  ),
];
