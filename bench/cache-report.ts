/**
 * Results of the layer cache scenarios: medians per side and phase, the blobs each build
 * downloaded, and the targets of issue 15 (warm rebuilds ≤ 0.5× Buildah's, an unchanged rebuild
 * ≤ 0.3× Kiln's own cold build and downloading no layer it does not need).
 */
import type { CacheScenario, CacheSide, Phase } from './cache-scenarios.js';
import { PHASES } from './cache-scenarios.js';
import { median, summarise, type RunRecord, type SideResult, type TargetCheck } from './report.js';

/** One build of a cache run. */
export interface CacheRunRecord extends RunRecord {
  /** Blob GETs the registry answered during the build (layers and configs), and their bytes. */
  blobGets?: number;
  blobGetMiB?: number;
  /** The final image's compressed layer digests, base first. */
  layers?: string[];
  /** Indices into {@link layers} of the layers downloaded (a layer fetched twice appears twice). */
  layerGets?: number[];
  /** How many of {@link layers} are the cold build's, at the same index (rebuilds only). */
  sameLayersAsCold?: number;
  /** Kiln only: steps logged as `cache hit` / `cache miss`. */
  hits?: number;
  misses?: number;
}

export interface CacheScenarioResult {
  name: string;
  what: string;
  sides: CacheSide[];
  /** Per phase, per side: the runs and their medians (report.ts `summarise`). */
  phases: Record<Phase, Partial<Record<CacheSide, SideResult>>>;
  unchangedMayFetch: Partial<Record<CacheSide, number[]>>;
}

/** Fills in the medians of every side and phase. */
export function summariseCache(
  s: CacheScenario,
  sides: CacheSide[],
  phases: Record<Phase, Partial<Record<CacheSide, SideResult>>>,
): CacheScenarioResult {
  for (const p of PHASES) for (const side of sides) if (phases[p][side]) summarise(phases[p][side]);
  return { name: s.name, what: s.what, sides, phases, unchangedMayFetch: s.unchangedMayFetch };
}

const okRuns = (sr: SideResult | undefined): CacheRunRecord[] =>
  (sr?.runs ?? []).filter((r): r is CacheRunRecord => r.ok);

/** The median of `pick` over the successful runs, NaN when none has it. */
function med(sr: SideResult | undefined, pick: (r: CacheRunRecord) => number | undefined): number {
  const xs = okRuns(sr)
    .map(pick)
    .filter((x): x is number => x !== undefined && !Number.isNaN(x));
  return xs.length ? median(xs) : NaN;
}

const f = (x: number, digits: number): string => (Number.isNaN(x) ? '–' : x.toFixed(digits));
const wall = (r: CacheScenarioResult, p: Phase, side: CacheSide): number => r.phases[p][side]?.median?.wallS ?? NaN;

/** The layer indices the unchanged rebuilds of `side` downloaded that they had no need of. */
function unneeded(r: CacheScenarioResult, side: CacheSide): { fetched: number[]; extra: number[] } {
  const allowed = new Set(r.unchangedMayFetch[side] ?? []);
  const fetched = [...new Set(okRuns(r.phases.unchanged[side]).flatMap((x) => x.layerGets ?? []))].sort(
    (a, b) => a - b,
  );
  return { fetched, extra: fetched.filter((i) => !allowed.has(i)) };
}

/** One cache scenario as fixed-width text. */
export function formatCacheScenario(r: CacheScenarioResult): string {
  const cols = ['wall s', 'CPU s', 'RSS MiB', 'blob GETs', 'GET MiB', 'layers=cold', 'hit/miss'];
  const row = (a: string, b: string, cells: string[], note = ''): string =>
    (a.padEnd(11) + b.padEnd(21) + cells.map((c) => c.padStart(12)).join('') + (note ? `  ${note}` : '')).trimEnd() +
    '\n';
  let out = `${r.name} — ${r.what}\n` + row('', '', cols, 'runs ok');
  for (const p of PHASES) {
    r.sides.forEach((side, n) => {
      const sr = r.phases[p][side];
      const m = sr?.median;
      const all = sr?.runs.length ?? 0;
      const note = sr?.status === 'unsupported' ? 'unsupported' : `${okRuns(sr).length}/${all} ${sr?.status ?? ''}`;
      const layers = med(sr, (x) => x.layers?.length);
      const same =
        p === 'cold'
          ? ''
          : `${f(
              med(sr, (x) => x.sameLayersAsCold),
              0,
            )}/${f(layers, 0)}`;
      const hm =
        side === 'buildah' || side === 'kiln-nocache'
          ? ''
          : `${f(
              med(sr, (x) => x.hits),
              0,
            )}/${f(
              med(sr, (x) => x.misses),
              0,
            )}`;
      out += row(
        n === 0 ? p : '',
        side,
        [
          f(m?.wallS ?? NaN, 2),
          f(m?.cpuS ?? NaN, 2),
          f(m?.rssMiB ?? NaN, 0),
          f(
            med(sr, (x) => x.blobGets),
            0,
          ),
          f(
            med(sr, (x) => x.blobGetMiB),
            2,
          ),
          same,
          hm,
        ],
        note.replace(/ ok$/, ''),
      );
    });
  }
  const kilns = r.sides.filter((x) => x !== 'buildah');
  if (r.sides.includes('buildah')) {
    out += row('', '', PHASES.map(String)) + '';
    for (const k of kilns)
      out += row(
        'ratio',
        `${k}/buildah`,
        PHASES.map((p) => `${f(wall(r, p, k) / wall(r, p, 'buildah'), 2)}×`),
      );
  }
  for (const k of kilns)
    out += `${k}: unchanged rebuild / cold build ${f(wall(r, 'unchanged', k) / wall(r, 'cold', k), 2)}×; layers the unchanged rebuilds downloaded (index, base 0): [${unneeded(r, k).fetched.join(' ')}]\n`;
  for (const p of PHASES)
    for (const side of r.sides) {
      const sr = r.phases[p][side];
      if (sr?.error) out += `${side} ${p} ${sr.status}:\n${sr.error.replace(/^/gm, '    ')}\n`;
    }
  return out;
}

/** Issue 15's targets for each Kiln side that uses the cache. */
export function checkCacheTargets(results: CacheScenarioResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const r of results) {
    for (const k of r.sides.filter((x): x is 'kiln' | 'kiln-copy' => x === 'kiln' || x === 'kiln-copy')) {
      const status = r.phases.cold[k]?.status;
      const why = status === 'unsupported' ? 'Kiln refused the cache flags' : `Kiln ${status ?? 'not run'}`;
      const check = (target: string, x: number, limit: number, detail: (x: number) => string): void => {
        checks.push({
          target: `${r.name}: ${target}`,
          met: !Number.isNaN(x) && x <= limit,
          detail: Number.isNaN(x) ? why : detail(x),
        });
      };
      if (r.sides.includes('buildah'))
        for (const p of ['unchanged', 'changed'] as const)
          check(
            `${k} ${p} rebuild ≤ 0.5× Buildah's`,
            wall(r, p, k) / wall(r, p, 'buildah'),
            0.5,
            (x) => `${x.toFixed(2)}×`,
          );
      check(
        `${k} unchanged rebuild ≤ 0.3× its cold build`,
        wall(r, 'unchanged', k) / wall(r, 'cold', k),
        0.3,
        (x) => `${x.toFixed(2)}×`,
      );
      const runs = okRuns(r.phases.unchanged[k]);
      const { fetched, extra } = unneeded(r, k);
      checks.push({
        target: `${r.name}: ${k} unchanged rebuild downloads no layer it does not need (may: [${(r.unchangedMayFetch[k] ?? []).join(' ')}])`,
        met: runs.length > 0 && extra.length === 0,
        detail: runs.length === 0 ? why : `downloaded layers [${fetched.join(' ')}]`,
      });
    }
  }
  return checks;
}
