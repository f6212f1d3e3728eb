import { describe, expect, test } from 'vitest';
import { changedParts, stepKey, type StepKeyInputs } from './step-key.js';

const RUN: StepKeyInputs = {
  platform: 'linux/amd64',
  base: 'sha256:' + 'b'.repeat(64),
  below: ['sha256:' + '1'.repeat(64), 'sha256:' + '2'.repeat(64)],
  step: 'RUN /bin/sh -c npm ci',
  env: ['PATH=/usr/bin:/bin', 'NODE_ENV=production'],
  user: '',
  workdir: '/app',
  shell: ['/bin/sh', '-c'],
  mounts: ['type=cache,target=/root/.npm'],
};

describe('stepKey', () => {
  test('the same inputs give the same key, whatever the order of the environment', () => {
    const again = stepKey({ ...RUN, env: [...RUN.env].reverse() });
    expect(again).toEqual(stepKey(RUN));
    expect(stepKey(RUN).digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test.each<[string, Partial<StepKeyInputs>, string[]]>([
    ['a Dockerfile line', { step: 'RUN /bin/sh -c npm install' }, ['step']],
    ['a build arg the step sees', { env: [...RUN.env, 'VERSION=2'] }, ['env']],
    ['an ENV value', { env: ['PATH=/usr/bin:/bin', 'NODE_ENV=development'] }, ['env']],
    ['the base image digest', { base: 'sha256:' + 'c'.repeat(64) }, ['base']],
    ['a layer below (content chaining)', { below: [RUN.below[0] as string, 'sha256:' + '3'.repeat(64)] }, ['below']],
    ['the platform', { platform: 'linux/arm64' }, ['platform']],
    ['USER', { user: 'node' }, ['user']],
    ['WORKDIR', { workdir: '/srv' }, ['workdir']],
    ['SHELL', { shell: ['/bin/bash', '-c'] }, ['shell']],
    ['a mount', { mounts: ['type=cache,target=/root/.cache'] }, ['mounts']],
    ['COPY sources appearing', { sources: 'sha256:' + 'd'.repeat(64) }, ['sources']],
  ])('%s changes the key, and the miss names it', (_what, change, parts) => {
    const a = stepKey(RUN);
    const b = stepKey({ ...RUN, ...change });
    expect(b.digest).not.toBe(a.digest);
    expect(changedParts(a.parts, b.parts)).toEqual(parts);
  });

  test('an environment variable set twice counts with its last value only', () => {
    const twice = stepKey({ ...RUN, env: ['NODE_ENV=development', ...RUN.env] });
    expect(twice.digest).toBe(stepKey(RUN).digest);
  });
});
