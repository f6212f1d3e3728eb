/** Multi-stage builds: FROM earlier stages, COPY --from by name and index, --target, --skip-unused-stages. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const args = (): string[] => [
  '--context',
  fixture('multistage'),
  '--insecure',
  '--insecure-pull',
  '--build-arg',
  `BASE=${env.base.ref}`,
];

test('the final stage copies from earlier stages by name and index, keeping owners unless --chown', async () => {
  const dest = `${env.reg.host}/e2e/multi:1`;
  const r = await runExecutor([...args(), '--destination', dest]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain('building stage 1 (unused)'); // Kaniko builds every stage before the target by default
  const image = await inspectForTest(dest);
  expect(image.layers).toHaveLength(3); // FROM scratch: only the three COPY layers
  expect(await image.readFile('/artifact')).toMatch(/^built for (amd64|arm64)\n$/);
  expect(await image.stat('/artifact')).toMatchObject({ uid: 1000, gid: 1000 });
  expect(await image.stat('/bin/busybox')).toMatchObject({ type: 'file', mode: 0o755 });
  expect(await image.stat('/copied/artifact')).toMatchObject({ uid: 2, gid: 3 });
  expect(await image.exists('/unused')).toBe(false);
  expect(image.config.config?.Entrypoint).toEqual(['/bin/busybox', 'cat', '/artifact']);
});

test('--skip-unused-stages builds only what the target needs', async () => {
  const r = await runExecutor([...args(), '--no-push', '--skip-unused-stages']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain('building stage 0 (builder)');
  expect(r.stderr).not.toContain('(unused)');
});

test('--target builds an intermediate stage as the image', async () => {
  const dest = `${env.reg.host}/e2e/multi-builder:1`;
  const r = await runExecutor([...args(), '--destination', dest, '--target', 'builder']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).not.toContain('building stage 2');
  const image = await inspectForTest(dest);
  expect(image.layers[0]).toBe(env.base.layers[0]);
  expect(await image.exists('/out/artifact')).toBe(true);
  expect(await image.exists('/bin/sh')).toBe(true);
});

test('an unknown --target exits 2 listing the stages', async () => {
  const r = await runExecutor([...args(), '--no-push', '--target', 'nope']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/--target "nope": no stage of that name in the Dockerfile \(stages: builder, unused\)/);
});

/** A context holding only `dockerfile`. */
async function contextWith(dockerfile: string): Promise<string> {
  const ctx = await tempDir('multistage-concurrent');
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  return ctx;
}

test('independent stages run at the same time: each RUN waits for the other through a shared cache mount', async () => {
  // Run one after the other, the first RUN would wait 20 s for a file the second never got to write.
  const waitFor = (mine: string, other: string): string =>
    `RUN --mount=type=cache,id=kiln-concurrent-${process.pid},target=/c,sharing=shared touch /c/${mine} && i=0; while [ ! -e /c/${other} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; test -e /c/${other} && echo ${mine} > /${mine}`;
  const ctx = await contextWith(
    [
      'ARG BASE',
      'FROM ${BASE} AS one',
      waitFor('one', 'two'),
      'FROM ${BASE} AS two',
      waitFor('two', 'one'),
      'FROM ${BASE}',
      'COPY --from=one /one /one',
      'COPY --from=two /two /two',
      '',
    ].join('\n'),
  );
  const dest = `${env.reg.host}/e2e/concurrent:1`;
  const r = await runExecutor([
    '--context',
    ctx,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
    '--destination',
    dest,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  // The base is pulled once, though three stages start from it at once.
  expect(r.stderr.match(/INFO pulling layer/g)).toHaveLength(1);
  expect(r.stderr).toMatch(/INFO \[1\/1\] RUN .* stage=one/);
  const image = await inspectForTest(dest);
  expect(await image.readFile('/one')).toBe('one\n');
  expect(await image.readFile('/two')).toBe('two\n');
});

test('a failing stage stops the stages running beside it, and its error is the one reported', async () => {
  const marker = 100_000 + Math.floor(Math.random() * 800_000);
  const ctx = await contextWith(
    [
      'ARG BASE',
      'FROM ${BASE} AS slow',
      `RUN sleep ${marker}`,
      'FROM ${BASE} AS broken',
      'RUN sleep 1; exit 3',
      'FROM ${BASE}',
      'COPY --from=slow /bin/busybox /a',
      'COPY --from=broken /bin/busybox /b',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const r = await runExecutor(
    ['--context', ctx, '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`, '--no-push'],
    { timeoutMs: 60_000 },
  );
  // The failing RUN's own status (issue 13 item 8; this was exit 6).
  expect(r.exitCode, r.stderr).toBe(3);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(r.stderr).toMatch(/^error: Dockerfile:5: RUN sleep 1; exit 3: the command exited with status 3$/m);
  expect(r.stderr).not.toMatch(/interrupted/);
  const survivors = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  for (const pid of survivors) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    expect(cmdline.replace(/\0/g, ' ')).not.toContain(`sleep ${marker}`);
  }
});
