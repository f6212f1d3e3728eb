/**
 * Runs one layer cache scenario (cache-scenarios.ts): for every run and every side, a cold build
 * into a cache repository of its own, an unchanged rebuild and a rebuild after one source file
 * changed, each from a fresh local state (a wiped `--kaniko-dir`, a wiped Buildah storage root and
 * blob-info cache) as a new CI pod starts, with only the registry cache to go on. Every build
 * pushes to its own repository; the registry's access log says which blobs each build downloaded.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestRegistry } from '../test/support/registry.js';
import type { AccessLog } from './access-log.js';
import { runBuildah, type StorageDriver } from './buildah.js';
import { type CacheScenario, type CacheSide, kilnCacheFlags, type Phase, PHASES } from './cache-scenarios.js';
import { summariseCache, type CacheRunRecord, type CacheScenarioResult } from './cache-report.js';
import { imageBytes, imageLayers } from './image-size.js';
import { cacheVerdicts, isUnsupported, runKiln } from './kiln.js';
import type { Measured } from './measure.js';
import type { SideResult } from './report.js';

const MiB = 1024 * 1024;
const ERROR_LINES = 15;

/** What the cache bench needs of main's bench. */
export interface CacheBenchEnv {
  registry: TestRegistry;
  access: AccessLog;
  busybox: string;
  executor: string;
  driver: StorageDriver;
  policy: string;
  tmp: string;
  runs: number;
  sides: CacheSide[];
  say(line: string): void;
}

/** One timed build of `side`; never throws: a failure is recorded with its stderr tail. */
async function build(
  e: CacheBenchEnv,
  s: CacheScenario,
  dir: string,
  buildArgs: Record<string, string>,
  side: CacheSide,
  run: number,
  phase: Phase,
  cold: string[] | undefined,
): Promise<{ rec: CacheRunRecord; unsupported: boolean }> {
  const repo = `${side}/${s.name}-r${run}-${phase}`;
  const cacheRepo = `${e.registry.host}/cache/${side}-${s.name}-r${run}`;
  const b = {
    context: dir,
    dockerfile: join(dir, 'Dockerfile'),
    destination: `${e.registry.host}/${repo}:1`,
    buildArgs,
  };
  const scratch = join(e.tmp, 'scratch');
  await mkdir(scratch, { recursive: true });
  // A fresh local state for every build: nothing but the registry carries over.
  await rm(join(scratch, 'kaniko'), { recursive: true, force: true });
  const from = await e.access.mark();
  let m: Measured;
  try {
    m =
      side === 'buildah'
        ? await runBuildah({ ...b, cacheRepo }, scratch, e.driver, e.policy)
        : await runKiln(e.executor, { ...b, extraArgs: kilnCacheFlags(side, cacheRepo) }, scratch);
  } catch (err) {
    return {
      rec: { ok: false, exitCode: null, wallS: NaN, cpuS: NaN, rssMiB: NaN, error: String(err) },
      unsupported: false,
    };
  } finally {
    await rm(join(scratch, 'kaniko'), { recursive: true, force: true });
  }
  const gets = e.access.blobGets(from, await e.access.mark());
  const rec: CacheRunRecord = {
    ok: m.exitCode === 0,
    exitCode: m.exitCode,
    wallS: m.wallS,
    cpuS: m.cpuS,
    rssMiB: m.rssMiB,
    blobGets: gets.length,
    blobGetMiB: gets.reduce((n, g) => n + g.bytes, 0) / MiB,
  };
  if (side !== 'buildah') Object.assign(rec, cacheVerdicts(m));
  if (rec.ok) {
    try {
      rec.imageMiB = (await imageBytes(e.registry.host, repo, '1')) / MiB;
      rec.layers = await imageLayers(e.registry.host, repo, '1');
      // Which of the image's layers were downloaded (by index, base first); the rest were configs.
      rec.layerGets = gets.map((g) => rec.layers?.indexOf(g.digest) ?? -1).filter((i) => i >= 0);
      if (cold) rec.sameLayersAsCold = rec.layers.filter((d, i) => cold[i] === d).length;
    } catch (err) {
      rec.ok = false;
      rec.error = `the build succeeded but its image cannot be read back: ${String(err)}`;
    }
  } else {
    rec.error = `exit ${m.exitCode}\n${m.stderrTail.split('\n').slice(-ERROR_LINES).join('\n')}`;
  }
  const label = run === 0 ? 'warm-up' : `run ${run}/${e.runs}`;
  const facts = rec.ok
    ? `${rec.wallS.toFixed(2)} s wall  ${rec.cpuS.toFixed(2)} s CPU  ${rec.rssMiB.toFixed(0)} MiB RSS  ` +
      `blob GETs ${rec.blobGets} (${rec.blobGetMiB?.toFixed(2)} MiB), layers [${(rec.layerGets ?? []).join(' ')}]` +
      (rec.hits !== undefined ? `  cache hits ${rec.hits}, misses ${rec.misses}` : '')
    : `FAILED ${rec.error ?? ''}`;
  e.say(`[${s.name}] ${side.padEnd(12)} ${phase.padEnd(9)} ${label.padEnd(8)} ${facts}`);
  return { rec, unsupported: side !== 'buildah' && isUnsupported(m) };
}

/** The three builds of one side in one run; a failed build skips the rest of that run. */
async function runSide(
  e: CacheBenchEnv,
  s: CacheScenario,
  dir: string,
  buildArgs: Record<string, string>,
  side: CacheSide,
  run: number,
): Promise<{ recs: Partial<Record<Phase, CacheRunRecord>>; unsupported: boolean }> {
  const recs: Partial<Record<Phase, CacheRunRecord>> = {};
  for (const phase of PHASES) {
    if (phase === 'changed') await s.change(dir, run);
    try {
      const { rec, unsupported } = await build(e, s, dir, buildArgs, side, run, phase, recs.cold?.layers);
      recs[phase] = rec;
      if (!rec.ok) return { recs, unsupported };
    } finally {
      if (phase === 'changed') await s.restore(dir);
    }
  }
  return { recs, unsupported: false };
}

/** One warm-up of each side, then the sides in turn for `runs` runs; medians per side and phase. */
export async function runCacheScenario(e: CacheBenchEnv, s: CacheScenario): Promise<CacheScenarioResult> {
  const dir = join(e.tmp, 'scenarios', s.name);
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  e.say(`[${s.name}] preparing: ${s.what}`);
  const scratch = join(e.tmp, 'scenario-scratch', s.name);
  const buildArgs = await s.prepare(dir, { registry: e.registry, busybox: e.busybox, scratch });
  const fresh = (): Partial<Record<CacheSide, SideResult>> =>
    Object.fromEntries(e.sides.map((side): [CacheSide, SideResult] => [side, { status: 'ok', runs: [] }]));
  const phases: Record<Phase, Partial<Record<CacheSide, SideResult>>> = {
    cold: fresh(),
    unchanged: fresh(),
    changed: fresh(),
  };
  const status = new Map<CacheSide, SideResult['status']>(e.sides.map((side) => [side, 'ok']));
  try {
    for (let i = 0; i <= e.runs; i++) {
      for (const side of e.sides) {
        if (status.get(side) !== 'ok') continue;
        const { recs, unsupported } = await runSide(e, s, dir, buildArgs, side, i);
        for (const phase of PHASES) {
          const sr = phases[phase][side];
          const rec = recs[phase];
          if (!sr) continue;
          if (rec && i === 0) sr.warmup = rec;
          else if (rec) sr.runs.push(rec);
          if (rec && !rec.ok) sr.error ??= rec.error;
        }
        const failed = PHASES.some((p) => recs[p]?.ok === false);
        // A warm-up failure (or a refused flag) stops that side's runs: it would only fail again.
        if (unsupported) status.set(side, 'unsupported');
        else if (failed && i === 0) status.set(side, 'failed');
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
  for (const phase of PHASES)
    for (const side of e.sides) {
      const sr = phases[phase][side];
      if (sr && status.get(side) !== 'ok') sr.status = status.get(side) ?? 'failed';
    }
  e.say(`[${s.name}] done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return summariseCache(s, e.sides, phases);
}
