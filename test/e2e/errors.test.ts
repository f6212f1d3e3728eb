/**
 * Issue 2's error cases: each exits with its documented code and one clear message naming what
 * and where, never a stack trace.
 */
import { expect, test } from 'vitest';
import { fixture, runExecutor } from '../support/executor.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  expect(stderr).not.toMatch(/internal error/);
}

test('an unknown flag exits 2 naming the flag', async () => {
  const r = await runExecutor(['--context', fixture('demo'), '--no-push', '--frobnicate']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/^error: unknown option '--frobnicate'/);
  noStack(r.stderr);
});

test('neither --destination nor --no-push exits 2 and says what to pass', async () => {
  const r = await runExecutor(['--context', fixture('demo')]);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/^error: no --destination given.*--no-push/);
  noStack(r.stderr);
});

test('a Dockerfile error exits 3 with Dockerfile:LINE', async () => {
  const r = await runExecutor([
    '--context',
    fixture('errors'),
    '--dockerfile',
    'bad-instruction.Dockerfile',
    '--no-push',
  ]);
  expect(r.exitCode).toBe(3);
  expect(r.stderr).toMatch(/^error: bad-instruction\.Dockerfile:3:.*RUNN/);
  expect(r.stderr).toMatch(/did you mean RUN/i);
  noStack(r.stderr);
});

test('a failing RUN exits 6 naming the command, its exit status and output', async () => {
  const r = await runExecutor([
    '--context',
    fixture('errors'),
    '--dockerfile',
    'failing-run.Dockerfile',
    '--no-push',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode).toBe(6);
  expect(r.stderr).toMatch(
    /^error: failing-run\.Dockerfile:3: RUN echo about to fail && exit 3: the command exited with status 3/m,
  );
  expect(r.stderr).toContain('about to fail');
  noStack(r.stderr);
});

test('an unreachable base registry exits 4 naming it', async () => {
  const r = await runExecutor([
    '--context',
    fixture('errors'),
    '--dockerfile',
    'unreachable.Dockerfile',
    '--no-push',
    '--insecure-pull',
  ]);
  expect(r.exitCode).toBe(4);
  expect(r.stderr).toMatch(/^error: .*127\.0\.0\.1:1/m);
  noStack(r.stderr);
});

test('an unreachable destination exits 4 before building, and pushes nothing', async () => {
  const r = await runExecutor([
    '--context',
    fixture('demo'),
    '--destination',
    '127.0.0.1:1/nowhere/app:1',
    '--insecure',
  ]);
  expect(r.exitCode).toBe(4);
  expect(r.stderr).toMatch(/^error: .*127\.0\.0\.1:1/m);
  noStack(r.stderr);
});
