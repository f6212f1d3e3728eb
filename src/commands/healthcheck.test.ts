import { expect, test } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { HealthcheckInstruction } from '../dockerfile/instructions.js';
import { formatGoDuration, healthcheck, healthcheckConfig, healthcheckHistory } from './healthcheck.js';
import type { StageState } from './step.js';

function hcOf(text: string): HealthcheckInstruction {
  const ins = parseDockerfile(`FROM scratch\n${text}`).stages[0]?.instructions[0];
  if (ins?.kind !== 'HEALTHCHECK') throw new Error(`not a HEALTHCHECK: ${text}`);
  return ins;
}

const S = 1_000_000_000;

test.each([
  ['HEALTHCHECK NONE', { Test: ['NONE'] }],
  [
    'HEALTHCHECK CMD curl -f http://localhost/ || exit 1',
    { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] },
  ],
  ['HEALTHCHECK CMD ["/bin/check", "--quick"]', { Test: ['CMD', '/bin/check', '--quick'] }],
  [
    'HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=500ms --retries=4 CMD check $HOME',
    {
      Test: ['CMD-SHELL', 'check $HOME'],
      Interval: 30 * S,
      Timeout: 3 * S,
      StartPeriod: 60 * S,
      StartInterval: S / 2,
      Retries: 4,
    },
  ],
  // Zero values are omitted, as Docker's `json:",omitempty"` does.
  ['HEALTHCHECK --interval=0s --retries=0 CMD true', { Test: ['CMD-SHELL', 'true'] }],
])('%s sets %j', (text, config) => {
  expect(healthcheckConfig(hcOf(text))).toEqual(config);
});

test('HEALTHCHECK replaces an inherited health check', () => {
  const state: StageState = {
    config: { Healthcheck: { Test: ['CMD', 'old'], Retries: 9 } },
    args: new Map(),
    escape: '\\',
    cmdSet: false,
  };
  expect(healthcheck(hcOf('HEALTHCHECK NONE'), state).state.config.Healthcheck).toEqual({ Test: ['NONE'] });
});

test.each([
  [0, '0s'],
  [1, '1ns'],
  [1500, '1.5µs'],
  [500_000_000, '500ms'],
  [1_500_000_000, '1.5s'],
  [30 * S, '30s'],
  [90 * S, '1m30s'],
  [3600 * S, '1h0m0s'],
  [3600 * S + 500_000_000, '1h0m0.5s'],
])('Go formats %d ns as %s', (ns, text) => {
  expect(formatGoDuration(ns)).toBe(text);
});

test('history reads as BuildKit writes it (%+v of the config)', () => {
  expect(
    healthcheckHistory(
      healthcheckConfig(hcOf('HEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD curl -f http://localhost/')),
    ),
  ).toBe(
    'HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:5m0s Timeout:3s StartPeriod:0s StartInterval:0s Retries:3}',
  );
  expect(healthcheckHistory({ Test: ['NONE'] })).toBe(
    'HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}',
  );
});
