/**
 * HEALTHCHECK (Dockerfile reference, "HEALTHCHECK"): sets the image config's `Healthcheck` as
 * Docker stores it — `Test` is `["NONE"]`, `["CMD", arg…]` for the exec form or
 * `["CMD-SHELL", command]` for the shell form (run by the container's default shell; SHELL does
 * not apply and nothing is expanded), durations in nanoseconds, and fields left at their zero
 * value omitted (`json:",omitempty"` in Docker's image spec). PURE.
 */
import type { HealthcheckInstruction } from '../dockerfile/instructions.js';
import type { ContainerConfig } from '../oci/schemas.js';
import type { StageState, StepResult } from './step.js';

type Healthcheck = NonNullable<ContainerConfig['Healthcheck']>;

/** The `Healthcheck` a HEALTHCHECK instruction sets. */
export function healthcheckConfig(ins: HealthcheckInstruction): Healthcheck {
  if (ins.none || ins.command === undefined) return { Test: ['NONE'] };
  const test = ins.command.form === 'exec' ? ['CMD', ...ins.command.argv] : ['CMD-SHELL', ins.command.command];
  const o = ins.options;
  const hc: Healthcheck = { Test: test };
  if (o?.interval) hc.Interval = o.interval;
  if (o?.timeout) hc.Timeout = o.timeout;
  if (o?.startPeriod) hc.StartPeriod = o.startPeriod;
  if (o?.startInterval) hc.StartInterval = o.startInterval;
  if (o?.retries) hc.Retries = o.retries;
  return hc;
}

/** HEALTHCHECK: replaces any inherited health check (the last one wins, as in Docker). */
export function healthcheck(ins: HealthcheckInstruction, state: StageState): StepResult {
  return { state: { ...state, config: { ...state.config, Healthcheck: healthcheckConfig(ins) } }, changes: [] };
}

const UNITS: [string, bigint][] = [
  ['h', 3_600_000_000_000n],
  ['m', 60_000_000_000n],
];

/** Go's `time.Duration.String()`: `0s`, `1.5s`, `500ms`, `1m30s`, `1h0m0s`. */
export function formatGoDuration(ns: number): string {
  let n = BigInt(Math.trunc(ns));
  if (n === 0n) return '0s';
  const sign = n < 0n ? '-' : '';
  if (n < 0n) n = -n;
  if (n < 1_000_000_000n) {
    const [unit, size] = n < 1_000n ? ['ns', 1n] : n < 1_000_000n ? ['µs', 1_000n] : ['ms', 1_000_000n];
    return `${sign}${fraction(n, size)}${unit}`;
  }
  let out = '';
  let started = false;
  for (const [unit, size] of UNITS) {
    const q = n / size;
    if (q > 0n || started) {
      out += `${q}${unit}`;
      started = true;
    }
    n %= size;
  }
  return `${sign}${out}${fraction(n, 1_000_000_000n)}s`;
}

/** `n / size` with the fraction's trailing zeros dropped, as Go prints it. */
function fraction(n: bigint, size: bigint): string {
  const whole = n / size;
  const rest = n % size;
  if (rest === 0n) return String(whole);
  const digits = String(size).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * The history text BuildKit writes: `HEALTHCHECK %+v` of Docker's HealthcheckConfig struct, e.g.
 * `HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:30s Timeout:0s StartPeriod:0s StartInterval:0s Retries:3}`.
 */
export function healthcheckHistory(hc: Healthcheck): string {
  const d = (v: number | undefined): string => formatGoDuration(v ?? 0);
  return `HEALTHCHECK {Test:[${(hc.Test ?? []).join(' ')}] Interval:${d(hc.Interval)} Timeout:${d(hc.Timeout)} StartPeriod:${d(hc.StartPeriod)} StartInterval:${d(hc.StartInterval)} Retries:${hc.Retries ?? 0}}`;
}
