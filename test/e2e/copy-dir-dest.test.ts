/**
 * Issue 13, item 9: the directory `COPY <dir> <new-dest>` makes, as BuildKit's fsutil copy makes
 * it (`prepareTargetDir` → `MkdirAll(dest, 0755 or the octal --chmod, --chown)`, then the source's
 * mtime): never the source directory's own mode or owner. An existing destination keeps its mode;
 * missing parents are 0755; the subdirectories copied keep their sources' modes. Checked in the
 * pushed image with skopeo + umoci.
 */
import { chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

/** 2001-01-01T00:00:00Z: the source directories' mtime. */
const OLD = new Date(978_307_200_000);

const DOCKERFILE = `ARG BASE
FROM \${BASE} AS stage
RUN mkdir -m 700 /srcdir && echo s > /srcdir/s && chown -R 1000:1000 /srcdir

FROM \${BASE}
RUN mkdir -m 700 /exists
COPY d700 /new700
COPY d775 /a/b/new775
COPY d775 /exists
COPY --chmod=750 d700 /octal
COPY --chmod=u+x d700 /symbolic
COPY --chown=1000:1000 d700 /owned
COPY --from=stage /srcdir /fromstage
`;

/** A context with a 0700 directory (a 0750 subdirectory inside) and a 0775 one, as git cannot carry them. */
async function context(): Promise<string> {
  const ctx = await tempDir('copy-dir-ctx');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await mkdir(join(ctx, 'd700', 'sub'), { recursive: true });
  await writeFile(join(ctx, 'd700', 'a'), 'a\n');
  await writeFile(join(ctx, 'd700', 'sub', 'f'), 'f\n');
  await chmod(join(ctx, 'd700', 'a'), 0o600);
  await chmod(join(ctx, 'd700', 'sub', 'f'), 0o640);
  await chmod(join(ctx, 'd700', 'sub'), 0o750);
  await chmod(join(ctx, 'd700'), 0o700);
  await mkdir(join(ctx, 'd775'));
  await writeFile(join(ctx, 'd775', 'b.txt'), 'b\n');
  await chmod(join(ctx, 'd775'), 0o775);
  for (const d of ['d700', 'd700/sub', 'd775']) await utimes(join(ctx, d), OLD, OLD);
  return ctx;
}

test('COPY <dir> <new-dest> makes the destination 0755 (or the octal --chmod), never the source dir’s mode', async () => {
  const dest = `${env.reg.host}/e2e/copy-dir-dest:1`;
  const r = await runExecutor([
    '--context',
    await context(),
    '--destination',
    dest,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectForTest({ registry: dest });
  const dir = { type: 'dir', uid: 0, gid: 0 };

  // A 0700 source: the new destination is 0755 root and takes the source's mtime; what is
  // inside keeps its modes, subdirectories included.
  expect(await image.stat('/new700')).toMatchObject({ ...dir, mode: 0o755, mtimeMs: OLD.getTime() });
  expect(await image.stat('/new700/sub')).toMatchObject({ ...dir, mode: 0o750, mtimeMs: OLD.getTime() });
  expect(await image.stat('/new700/sub/f')).toMatchObject({ type: 'file', mode: 0o640 });
  expect(await image.stat('/new700/a')).toMatchObject({ type: 'file', mode: 0o600 });
  // A 0775 source below missing parents: parents and destination 0755.
  for (const p of ['/a', '/a/b', '/a/b/new775']) expect(await image.stat(p), p).toMatchObject({ ...dir, mode: 0o755 });
  expect(await image.readFile('/a/b/new775/b.txt')).toBe('b\n');
  // An existing destination keeps its mode.
  expect(await image.stat('/exists')).toMatchObject({ ...dir, mode: 0o700 });
  expect(await image.readFile('/exists/b.txt')).toBe('b\n');
  // An octal --chmod is the made destination's mode too (BuildKit ≥ 0.21); a symbolic one is not.
  expect(await image.stat('/octal')).toMatchObject({ ...dir, mode: 0o750 });
  expect(await image.stat('/octal/a')).toMatchObject({ mode: 0o750 });
  expect(await image.stat('/symbolic')).toMatchObject({ ...dir, mode: 0o755 });
  expect(await image.stat('/symbolic/a')).toMatchObject({ mode: 0o700 });
  // --chown owns the made destination; without it a stage's directory does not lend its owner.
  expect(await image.stat('/owned')).toMatchObject({ type: 'dir', mode: 0o755, uid: 1000, gid: 1000 });
  expect(await image.stat('/fromstage')).toMatchObject({ ...dir, mode: 0o755 });
  expect(await image.stat('/fromstage/s')).toMatchObject({ type: 'file', uid: 1000, gid: 1000 });
});
