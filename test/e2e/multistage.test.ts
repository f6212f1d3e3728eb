/** Multi-stage builds: FROM earlier stages, COPY --from by name and index, --target, --skip-unused-stages. */
import { expect, onTestFinished, test } from 'vitest';
import { fixture, runExecutor } from '../support/executor.js';
import { inspectImage, type InspectedImage } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const args = (): string[] => ['--context', fixture('multistage'), '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`];

async function inspected(ref: string): Promise<InspectedImage> {
  const image = await inspectImage({ registry: ref });
  onTestFinished(() => image.cleanup());
  return image;
}

test('the final stage copies from earlier stages by name and index, keeping owners unless --chown', async () => {
  const dest = `${env.reg.host}/e2e/multi:1`;
  const r = await runExecutor([...args(), '--destination', dest]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain('building stage 1 (unused)'); // Kaniko builds every stage before the target by default
  const image = await inspected(dest);
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
  const image = await inspected(dest);
  expect(image.layers[0]).toBe(env.base.layers[0]);
  expect(await image.exists('/out/artifact')).toBe(true);
  expect(await image.exists('/bin/sh')).toBe(true);
});

test('an unknown --target exits 2 listing the stages', async () => {
  const r = await runExecutor([...args(), '--no-push', '--target', 'nope']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/--target "nope": no stage of that name in the Dockerfile \(stages: builder, unused\)/);
});
