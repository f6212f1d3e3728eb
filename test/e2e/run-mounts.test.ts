/**
 * RUN --mount end to end (bind, cache, tmpfs, secret): what the step saw, that no mount target
 * reached a layer, that a cache outlives the build, and that a secret is nowhere in the image,
 * its history or the build's output.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { filesContaining, inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

test('bind, cache, tmpfs and secret mounts work, leave no trace, and a cache outlives the build', async () => {
  const state = await tempDir('state');
  const secretDir = await tempDir('secret');
  const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
  await writeFile(join(secretDir, 'token'), secret);
  const args = [
    '--context',
    fixture('run-mounts'),
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
    '--kaniko-dir',
    state,
    '--verbosity',
    'debug',
    '--secret',
    `id=token,src=${join(secretDir, 'token')}`,
    '--secret',
    'id=envtok,env=KILN_E2E_SECRET',
  ];
  const opts = { env: { KILN_E2E_SECRET: secret } };
  const first = await runExecutor([...args, '--no-push'], opts);
  expect(first.exitCode, first.stderr).toBe(0);
  const dest = `${env.reg.host}/e2e/run-mounts:1`;
  const r = await runExecutor([...args, '--destination', dest], opts);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectForTest(dest);

  expect(await image.readFile('/from-bind.txt')).toBe('hello from the context\n');
  expect(await image.readFile('/rw-seen.txt')).toBe('scribbled\n');
  expect(await readFile(fixture('run-mounts', 'data', 'hello.txt'), 'utf8')).toBe('hello from the context\n');
  expect(await image.readFile('/from-stage.txt')).toBe('built\nhello from the context\n');
  expect(await image.readFile('/cache-count.txt')).toBe('2\n'); // the second build saw the first one's cache
  expect(await image.readFile('/cache-stat.txt')).toBe('700 1000\n');
  expect(await image.readFile('/tmpfs.txt')).toBe('1\n');
  expect(await image.readFile('/secret-stat.txt')).toBe('400 0 0\n440 1000 1000\n');
  expect(await image.readFile('/secret-env.txt')).toBe('same\n');
  expect(await image.readFile('/secret-optional.txt')).toBe('skipped\n');

  // Mount points Kiln made are gone, and no layer names them.
  for (const p of ['/mnt', '/in', '/etc/hello.txt', '/var', '/scratch', '/run', '/etc/tok'])
    expect(await image.exists(p), p).toBe(false);
  const entries = (await Promise.all(image.layers.map((_, i) => image.layerEntries(i)))).flat();
  expect(entries.filter((e) => /(^|\/)(mnt|in|scratch|run|var|etc\/tok|etc\/hello\.txt)(\/|$)/.test(e))).toEqual([]);

  // The secret is in no file of the image, no history entry and no output, even at debug level.
  expect(await filesContaining(image.rootfsDir, secret)).toEqual([]);
  expect(JSON.stringify(image.config)).not.toContain(secret);
  for (const out of [first, r]) expect(out.stdout + out.stderr).not.toContain(secret);
  const history = (image.config.history ?? []).map((h) => h.created_by);
  expect(history).toContain(
    'RUN /bin/sh -c cat /mnt/data/hello.txt > /from-bind.txt && if touch /mnt/data/x 2>/dev/null; then echo writable; exit 1; fi # buildkit',
  );
});

test('a missing required secret fails the step (exit 6) and names the flag to pass', async () => {
  const r = await runExecutor([
    '--context',
    fixture('run-refusals'),
    '--dockerfile',
    'secret-required.Dockerfile',
    '--no-push',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode, r.stderr).toBe(6);
  expect(r.stderr).toMatch(
    /^error: secret-required\.Dockerfile:3: RUN --mount: secret missing is required but was not given/m,
  );
  expect(r.stderr).toContain('--secret id=missing,src=PATH');
});

test('a --secret that names an unset variable is a usage error (exit 2)', async () => {
  const r = await runExecutor(['--context', fixture('run-mounts'), '--no-push', '--secret', 'id=x,env=KILN_NOT_SET']);
  expect(r.exitCode, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/--secret "id=x,env=KILN_NOT_SET": the environment variable KILN_NOT_SET is not set/);
});
