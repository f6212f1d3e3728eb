/**
 * Results of the bench: medians, Kiln/Buildah ratios, the targets of issue 3, and the text table.
 */
import type { SnapshotCost } from './kiln.js';

export interface RunRecord {
  ok: boolean;
  exitCode: number | null;
  wallS: number;
  cpuS: number;
  rssMiB: number;
  imageMiB?: number;
  /** Kiln only: one entry per RUN step. */
  snapshots?: SnapshotCost[];
  /** Why the run failed (stderr tail or the bench's own error). */
  error?: string;
}

export interface Medians {
  wallS: number;
  cpuS: number;
  rssMiB: number;
  imageMiB: number;
}

export interface SideResult {
  status: 'ok' | 'failed' | 'unsupported' | 'skipped';
  warmup?: RunRecord;
  runs: RunRecord[];
  median?: Medians;
  /** The first failure's stderr tail. */
  error?: string;
}

export interface ScenarioResult {
  name: string;
  what: string;
  kiln: SideResult;
  buildah: SideResult;
  /** Kiln / Buildah of each median, when both have one. */
  ratio?: Medians;
}

export interface TargetCheck {
  target: string;
  met: boolean;
  detail: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** Medians over the successful timed runs; status from the runs. */
export function summarise(side: SideResult): SideResult {
  const ok = side.runs.filter((r) => r.ok);
  if (side.status === 'ok' && side.runs.some((r) => !r.ok)) side.status = 'failed';
  if (ok.length > 0) {
    side.median = {
      wallS: median(ok.map((r) => r.wallS)),
      cpuS: median(ok.map((r) => r.cpuS)),
      rssMiB: median(ok.map((r) => r.rssMiB)),
      imageMiB: median(ok.map((r) => r.imageMiB ?? NaN)),
    };
  }
  return side;
}

export function ratios(k: Medians | undefined, b: Medians | undefined): Medians | undefined {
  if (!k || !b) return undefined;
  return {
    wallS: k.wallS / b.wallS,
    cpuS: k.cpuS / b.cpuS,
    rssMiB: k.rssMiB / b.rssMiB,
    imageMiB: k.imageMiB / b.imageMiB,
  };
}

/** Per-RUN snapshot cost (index before + snapshot after), median over timed runs, per step. */
export function snapshotStepMedians(side: SideResult): number[] {
  const per = side.runs
    .filter((r) => r.ok && r.snapshots)
    .map((r) => (r.snapshots ?? []).map((s) => s.indexBeforeMs + s.snapshotMs));
  const steps = Math.max(0, ...per.map((p) => p.length));
  return Array.from({ length: steps }, (_, i) => median(per.map((p) => p[i] ?? NaN).filter((x) => !Number.isNaN(x))));
}

/** The targets of issue 3, checked against whatever scenarios ran. */
export function checkTargets(results: ScenarioResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const by = new Map(results.map((r) => [r.name, r]));
  for (const r of results) {
    if (r.kiln.status === 'unsupported' || !r.ratio) {
      checks.push({
        target: `${r.name}: Kiln wall ≤ 1.0× Buildah`,
        met: false,
        detail: `Kiln ${r.kiln.status}` + (r.buildah.status === 'ok' ? '' : `, Buildah ${r.buildah.status}`),
      });
    } else {
      checks.push({
        target: `${r.name}: Kiln wall ≤ 1.0× Buildah`,
        met: r.ratio.wallS <= 1.0,
        detail: `${r.ratio.wallS.toFixed(2)}×`,
      });
    }
  }
  const big = by.get('copy-big')?.kiln.median;
  const big256 = by.get('copy-big-256')?.kiln.median;
  if (by.has('copy-big')) {
    checks.push({
      target: 'copy-big: Kiln peak RSS ≤ 200 MiB',
      met: !!big && big.rssMiB <= 200,
      detail: big ? `${big.rssMiB.toFixed(0)} MiB` : 'no successful run',
    });
  }
  if (big && big256) {
    // "Not growing": within 10% (allocator and GC noise), for twice the bytes.
    checks.push({
      target: 'copy-big: Kiln RSS does not grow from 256 to 512 MiB',
      met: big.rssMiB <= big256.rssMiB * 1.1,
      detail: `${big256.rssMiB.toFixed(0)} → ${big.rssMiB.toFixed(0)} MiB`,
    });
  }
  const snap = by.get('snapshot-large-rootfs');
  if (snap) {
    const steps = snapshotStepMedians(snap.kiln);
    checks.push({
      target: 'snapshot-large-rootfs: snapshot per small RUN < 1 s',
      met: steps.length > 0 && steps.every((ms) => ms < 1000),
      detail: steps.length
        ? `per RUN (median ms): ${steps.map((ms) => ms.toFixed(0)).join(', ')}`
        : 'no snapshot records',
    });
  }
  return checks;
}

const f = (x: number | undefined, digits: number): string =>
  x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);

/** One scenario as a fixed-width text table. */
export function formatScenario(r: ScenarioResult): string {
  const row = (label: string, cells: string[]): string =>
    label.padEnd(14) + cells.map((c) => c.padStart(10)).join('') + '\n';
  const side = (label: string, s: SideResult): string => {
    const m = s.median;
    const okRuns = `${s.runs.filter((x) => x.ok).length}/${s.runs.length}`;
    const note = s.status === 'ok' ? okRuns : s.status === 'unsupported' ? s.status : `${okRuns} ${s.status}`;
    return row(label, [f(m?.wallS, 2), f(m?.cpuS, 2), f(m?.rssMiB, 0), f(m?.imageMiB, 2)]).trimEnd() + `  ${note}\n`;
  };
  let out = `${r.name} — ${r.what}\n`;
  out += row('', ['wall s', 'CPU s', 'RSS MiB', 'image MiB']).trimEnd() + '  runs ok\n';
  out += side('kiln', r.kiln);
  out += side('buildah', r.buildah);
  const q = r.ratio;
  out += row(
    'kiln/buildah',
    q ? [q.wallS, q.cpuS, q.rssMiB, q.imageMiB].map((x) => `${f(x, 2)}×`) : ['–', '–', '–', '–'],
  );
  const steps = snapshotStepMedians(r.kiln);
  if (steps.length)
    out += `kiln snapshot per RUN (index before + after, median ms): ${steps.map((ms) => ms.toFixed(0)).join(', ')}\n`;
  for (const [label, s] of [
    ['kiln', r.kiln],
    ['buildah', r.buildah],
  ] as const) {
    if (s.error)
      out += `${label} ${s.status}:\n${s.error
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\n`;
  }
  return out;
}

export function formatTargets(checks: TargetCheck[]): string {
  return checks.map((c) => `${c.met ? 'MET   ' : 'MISSED'}  ${c.target}  (${c.detail})`).join('\n') + '\n';
}
