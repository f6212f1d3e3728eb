/**
 * `npm run bench [-- SCENARIO…]`: builds each scenario with Kiln and with Buildah on this machine
 * in the same run, both pushing to one local registry, alternating the two (one warm-up each,
 * then A B A B … for BENCH_RUNS runs each, default 3), and prints medians and Kiln/Buildah ratios
 * against the targets of issue 3; then the layer cache scenarios (cache-bench.ts) against those of
 * issue 15. Results also go to bench/results/latest.json.
 * BENCH_PROFILE=DIR runs Kiln under `node --cpu-prof` (see profile-top.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushBusybox } from '../test/support/busybox.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { AccessLog } from './access-log.js';
import { runCacheScenario } from './cache-bench.js';
import { checkCacheTargets, formatCacheScenario, type CacheScenarioResult } from './cache-report.js';
import { pickStorageDriver, runBuildah, writePolicy, type StorageDriver } from './buildah.js';
import { imageBytes } from './image-size.js';
import { freezeKiln, isUnsupported, runKiln, snapshotCosts } from './kiln.js';
import type { Measured } from './measure.js';
import {
  checkTargets,
  formatScenario,
  formatTargets,
  ratios,
  summarise,
  type RunRecord,
  type ScenarioResult,
  type SideResult,
} from './report.js';
import type { KilnContext, Scenario } from './scenarios.js';
import { selectScenarios, selectTools, type Tool } from './select.js';

/** The repository root: this file runs as out/bench/bench/main.js. */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MiB = 1024 * 1024;
const ERROR_LINES = 15;

interface Bench {
  registry: TestRegistry;
  busybox: string;
  executor: string;
  driver: StorageDriver;
  policy: string;
  tmp: string;
  runs: number;
  /** BENCH_TOOLS: which tools to run (default both); one alone gives no ratios. */
  tools: Tool[];
  /** BENCH_PROFILE: Kiln runs under `node --cpu-prof`, profiles written here (timings inflated). */
  profileDir?: string;
}

const say = (line: string): void => void process.stderr.write(line + '\n');

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim().split('\n')[0] ?? '';
}

/** Which Kiln was measured: the commit, whether the tree had local changes, when dist/ was built. */
async function kilnBuild(): Promise<string> {
  const head = version('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no', '--', 'src'], {
    encoding: 'utf8',
  }).stdout?.trim()
    ? ' + uncommitted src changes'
    : '';
  const built = await stat(join(REPO, 'dist/cli/main.js')).then(
    (s) => s.mtime.toISOString(),
    () => '?',
  );
  return `${head || '?'}${dirty}, dist built ${built}`;
}

async function machine(driver: string, why: string): Promise<Record<string, string | number>> {
  const debian = await readFile('/etc/debian_version', 'utf8').catch(() => '?');
  return {
    kiln: await kilnBuild(),
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    os: `Debian ${debian.trim()}`,
    node: process.version,
    buildah: version('buildah', ['--version']),
    buildahStorage: `${driver} (${why})`,
    // Other work on the machine skews both tools; alternating runs spreads it, this records it.
    loadAtStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

function tailOf(text: string): string {
  return text.split('\n').slice(-ERROR_LINES).join('\n');
}

/** One timed build + push of `tool`; never throws: a failure is recorded with its stderr tail. */
async function attempt(
  b: Bench,
  tool: Tool,
  s: Scenario,
  dir: string,
  buildArgs: Record<string, string>,
  i: number,
  kilnContext?: KilnContext,
): Promise<{ rec: RunRecord; unsupported: boolean }> {
  const repo = `${tool}/${s.name}-r${i}`;
  const tag = String(i);
  const build = {
    context: tool === 'kiln' && kilnContext ? kilnContext.context : dir,
    dockerfile: join(dir, 'Dockerfile'),
    destination: `${b.registry.host}/${repo}:${tag}`,
    buildArgs,
  };
  const scratch = join(b.tmp, 'scratch');
  await mkdir(scratch, { recursive: true });
  let m: Measured;
  try {
    const profile = b.profileDir ? { dir: b.profileDir, name: `${s.name}-${i}` } : undefined;
    m =
      tool === 'kiln'
        ? await runKiln(b.executor, build, scratch, profile, kilnContext?.env)
        : await runBuildah(build, scratch, b.driver, b.policy);
  } catch (err) {
    return {
      rec: { ok: false, exitCode: null, wallS: NaN, cpuS: NaN, rssMiB: NaN, error: String(err) },
      unsupported: false,
    };
  } finally {
    await rm(join(scratch, 'kaniko'), { recursive: true, force: true });
  }
  const rec: RunRecord = { ok: m.exitCode === 0, exitCode: m.exitCode, wallS: m.wallS, cpuS: m.cpuS, rssMiB: m.rssMiB };
  if (tool === 'kiln') rec.snapshots = snapshotCosts(m);
  if (rec.ok) {
    try {
      rec.imageMiB = (await imageBytes(b.registry.host, repo, tag)) / MiB;
    } catch (err) {
      rec.ok = false;
      rec.error = `the build succeeded but its image cannot be read back: ${String(err)}`;
    }
  } else {
    rec.error = `exit ${m.exitCode}\n${tailOf(m.stderrTail)}`;
  }
  const label = i === 0 ? 'warm-up' : `run ${i}/${b.runs}`;
  const facts = rec.ok
    ? `${rec.wallS.toFixed(2)} s wall  ${rec.cpuS.toFixed(2)} s CPU  ${rec.rssMiB.toFixed(0)} MiB RSS  ${rec.imageMiB?.toFixed(2)} MiB image`
    : `FAILED ${rec.error ?? ''}`;
  say(`[${s.name}] ${tool.padEnd(7)} ${label.padEnd(8)} ${facts}`);
  return { rec, unsupported: tool === 'kiln' && isUnsupported(m) };
}

async function runScenario(b: Bench, s: Scenario): Promise<ScenarioResult> {
  const dir = join(b.tmp, 'scenarios', s.name);
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  say(`[${s.name}] preparing: ${s.what}`);
  const penv = { registry: b.registry, busybox: b.busybox, scratch: join(b.tmp, 'scenario-scratch', s.name) };
  const buildArgs = await s.prepare(dir, penv);
  const kilnContext = b.tools.includes('kiln') && s.kilnContext ? await s.kilnContext(dir, penv) : undefined;
  const sides: Record<Tool, SideResult> = {
    kiln: { status: b.tools.includes('kiln') ? 'ok' : 'skipped', runs: [] },
    buildah: { status: b.tools.includes('buildah') ? 'ok' : 'skipped', runs: [] },
  };
  try {
    // Warm-up of each (page cache, registry), then alternate A B A B.
    for (let i = 0; i <= b.runs; i++) {
      for (const tool of ['kiln', 'buildah'] as const) {
        const side = sides[tool];
        if (side.status !== 'ok') continue;
        const { rec, unsupported } = await attempt(b, tool, s, dir, buildArgs, i, kilnContext);
        if (i === 0) side.warmup = rec;
        else side.runs.push(rec);
        if (!rec.ok) {
          side.error ??= rec.error;
          // A warm-up failure stops that tool's runs: it would only fail again, slowly.
          if (unsupported) side.status = 'unsupported';
          else if (i === 0) side.status = 'failed';
        }
      }
    }
  } finally {
    await kilnContext?.stop?.();
    await rm(dir, { recursive: true, force: true });
    await rm(penv.scratch, { recursive: true, force: true });
  }
  const kiln = summarise(sides.kiln);
  const buildah = summarise(sides.buildah);
  say(`[${s.name}] done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { name: s.name, what: s.what, kiln, buildah, ratio: ratios(kiln.median, buildah.median) };
}

async function main(): Promise<void> {
  const { scenarios, cacheScenarios } = selectScenarios(process.argv.slice(2));
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);
  const { tools, cacheSides } = selectTools(process.env.BENCH_TOOLS);
  const deps = spawnSync('bash', [join(REPO, 'bench/install-deps.sh')], { stdio: 'inherit' });
  if (deps.status !== 0) throw new Error('bench/install-deps.sh failed');

  const tmp = await mkdtemp(join(process.env.TMPDIR || tmpdir(), 'kiln-bench-'));
  let registry: TestRegistry | undefined;
  const cleanup = async (): Promise<void> => {
    await registry?.stop();
    await rm(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const executor = await freezeKiln(REPO, join(tmp, 'kiln'));
    const { driver, why } = await pickStorageDriver(tmp);
    const policy = await writePolicy(tmp);
    // Its access log counts the blobs each cache scenario build downloads.
    const access = new AccessLog();
    registry = await startRegistry({ onAccessLog: access.onLine });
    access.attach(registry.host);
    const busybox = (await pushBusybox(registry)).ref;
    const info = await machine(driver, why);
    say(
      `bench: ${[...scenarios, ...cacheScenarios].map((s) => s.name).join(' ')}; ${runs} runs each after a warm-up; Buildah storage ${info.buildahStorage}`,
    );
    const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
    if (profileDir)
      say(`bench: BENCH_PROFILE set: Kiln runs write CPU profiles to ${profileDir}; their timings are inflated`);
    const b: Bench = {
      registry,
      busybox,
      executor,
      driver,
      policy,
      tmp,
      runs,
      tools,
      ...(profileDir ? { profileDir } : {}),
    };
    const results: ScenarioResult[] = [];
    if (tools.length > 0) for (const s of scenarios) results.push(await runScenario(b, s));
    const cacheResults: CacheScenarioResult[] = [];
    const cacheEnv = { ...b, access, sides: cacheSides, say };
    for (const s of cacheScenarios) cacheResults.push(await runCacheScenario(cacheEnv, s));

    const targets = [...checkTargets(results), ...checkCacheTargets(cacheResults)];
    const date = new Date().toISOString();
    info.loadAtEnd = loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    let text = `\nKiln vs Buildah — ${date}\n`;
    text +=
      Object.entries(info)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n') + '\n';
    text += `  runs: ${runs} per tool after one warm-up each, alternating; medians shown\n\n`;
    text += [...results.map(formatScenario), ...cacheResults.map(formatCacheScenario)].join('\n');
    text += `\nTargets\n${formatTargets(targets)}`;
    process.stdout.write(text);
    await mkdir(join(REPO, 'bench/results'), { recursive: true });
    const json = { date, machine: info, runs, scenarios: results, cacheScenarios: cacheResults, targets };
    await writeFile(join(REPO, 'bench/results/latest.json'), JSON.stringify(json, null, 2) + '\n');
    say('bench: results written to bench/results/latest.json');
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  say(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
