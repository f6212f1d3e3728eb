/**
 * What `npm run bench [-- SCENARIO…]` runs: the scenarios named (by default the plain ones)
 * and the tools of BENCH_TOOLS (`kiln`, `buildah`; for the cache scenarios also `kiln-copy`,
 * Kiln with `--cache-copy-layers=true`, and `kiln-nocache`, Kiln without the cache).
 */
import {
  CACHE_SCENARIOS,
  CACHE_SIDES,
  DEFAULT_CACHE_SIDES,
  type CacheScenario,
  type CacheSide,
} from './cache-scenarios.js';
import { SCENARIOS, type Scenario } from './scenarios.js';

export type Tool = 'kiln' | 'buildah';

/**
 * The scenarios of each kind that `names` selects; unknown names are an error. None named: the
 * plain scenarios only, as the cache scenarios take 5 to 10 minutes (12 cold builds of a 10 s
 * RUN with the default three runs and three sides) and run when named (`npm run bench -- cache-node`).
 */
export function selectScenarios(names: string[]): { scenarios: Scenario[]; cacheScenarios: CacheScenario[] } {
  if (names.length === 0) return { scenarios: SCENARIOS, cacheScenarios: [] };
  const known = [...SCENARIOS, ...CACHE_SCENARIOS].map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from: ${known.join(' ')}`);
  return {
    scenarios: SCENARIOS.filter((s) => names.includes(s.name)),
    cacheScenarios: CACHE_SCENARIOS.filter((s) => names.includes(s.name)),
  };
}

/** The tools of the plain scenarios and the sides of the cache scenarios that BENCH_TOOLS names. */
export function selectTools(value: string | undefined): { tools: Tool[]; cacheSides: CacheSide[] } {
  if (value === undefined) return { tools: ['kiln', 'buildah'], cacheSides: DEFAULT_CACHE_SIDES };
  const named = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const cacheSides = CACHE_SIDES.filter((s) => named.includes(s));
  const tools = (['kiln', 'buildah'] as const).filter((t) => named.includes(t));
  if (named.length === 0 || cacheSides.length !== named.length)
    throw new Error(`BENCH_TOOLS must list some of ${CACHE_SIDES.join(', ')}, not ${value}`);
  return { tools, cacheSides };
}
