/**
 * Dockerfile semantics of issue 13 (items 8 and 9) end to end on busybox, read back with skopeo
 * and umoci, each checked against the rootfs and config that BuildKit's or Kaniko's rule gives.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

/** A context holding `Dockerfile` and the given files. */
async function contextWith(dockerfile: string[], files: Record<string, string> = {}): Promise<string> {
  const ctx = await tempDir('semantics');
  await writeFile(join(ctx, 'Dockerfile'), dockerfile.join('\n') + '\n');
  for (const [name, content] of Object.entries(files)) await writeFile(join(ctx, name), content);
  return ctx;
}

/** Builds `ctx` on busybox and pushes it as `dest`; returns the executor's result. */
function build(ctx: string, dest: string, extra: string[] = []): ReturnType<typeof runExecutor> {
  return runExecutor([
    '--context',
    ctx,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
    '--destination',
    dest,
    ...extra,
  ]);
}

const ARGS = [
  'ARG BASE',
  'FROM ${BASE} AS one',
  'ARG NAME=base',
  'ARG OTHER=other',
  'FROM one AS inherits',
  'RUN echo "$NAME $OTHER" > /inherited',
  'FROM one AS extends',
  'ARG NAME="$NAME-dev"',
  'RUN echo "$NAME" > /extended',
  'FROM one AS bare',
  'ARG NAME',
  'RUN echo "$NAME" > /bare',
  'FROM ${BASE}',
  'COPY --from=inherits /inherited /inherited',
  'COPY --from=extends /extended /extended',
  'COPY --from=bare /bare /bare',
];

test.each([
  { buildArgs: [], inherited: 'base other', extended: 'base-dev', bare: 'base' },
  { buildArgs: ['--build-arg', 'NAME=cli'], inherited: 'cli other', extended: 'cli', bare: 'cli' },
])(
  'a stage FROM an earlier stage inherits its ARGs; re-declared, they keep or extend the value ($buildArgs)',
  async ({ buildArgs, inherited, extended, bare }) => {
    const dest = `${env.reg.host}/e2e/semantics-args:${buildArgs.length}`;
    const r = await build(await contextWith(ARGS), dest, buildArgs);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/was not consumed/);
    const image = await inspectForTest(dest);
    expect(await image.readFile('/inherited')).toBe(`${inherited}\n`);
    expect(await image.readFile('/extended')).toBe(`${extended}\n`);
    expect(await image.readFile('/bare')).toBe(`${bare}\n`);
  },
);

test('WORKDIR after USER makes the missing directories for that user, so a RUN as the user can write there', async () => {
  const dest = `${env.reg.host}/e2e/semantics-workdir:1`;
  const ctx = await contextWith([
    'ARG BASE',
    'FROM ${BASE}',
    'USER app',
    'WORKDIR /srv/app/data',
    'RUN touch file && id -u > uid',
    'USER 2000',
    'WORKDIR /srv/numeric',
    'USER app',
    'WORKDIR /tmp',
  ]);
  const r = await build(ctx, dest);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectForTest(dest);
  // BuildKit's Mkdir with parents, WithUser: every directory it creates is the user's.
  expect(await image.stat('/srv')).toMatchObject({ type: 'dir', mode: 0o755, uid: 1000, gid: 1000 });
  expect(await image.stat('/srv/app/data')).toMatchObject({ type: 'dir', mode: 0o755, uid: 1000, gid: 1000 });
  expect(await image.stat('/srv/app/data/file')).toMatchObject({ type: 'file', uid: 1000, gid: 1000 });
  expect(await image.readFile('/srv/app/data/uid')).toBe('1000\n');
  // A uid /etc/passwd does not list: uid:uid. /srv existed by then and kept its owner.
  expect(await image.stat('/srv/numeric')).toMatchObject({ type: 'dir', uid: 2000, gid: 2000 });
  // An existing directory keeps its owner and mode, and WORKDIR adds no layer for it.
  expect(await image.stat('/tmp')).toMatchObject({ type: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  expect(image.config.history?.at(-1)).toMatchObject({ created_by: 'WORKDIR /tmp', empty_layer: true });
});

test('VOLUME makes a missing directory (root:root 0755) in the next layer, so a RUN can write into it', async () => {
  const dest = `${env.reg.host}/e2e/semantics-volume:1`;
  const ctx = await contextWith(
    [
      'ARG BASE',
      'FROM ${BASE}',
      'VOLUME /foo1',
      'RUN echo hello > /foo1/hello',
      'VOLUME /foo2 /bin',
      'COPY f.txt /f.txt',
    ],
    { 'f.txt': 'f\n' },
  );
  const r = await build(ctx, dest);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectForTest(dest);
  const volumes = (image.config.config as { Volumes?: Record<string, object> } | undefined)?.Volumes;
  expect(Object.keys(volumes ?? {}).sort()).toEqual(['/bin', '/foo1', '/foo2']);
  expect(await image.stat('/foo1')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0 });
  expect(await image.readFile('/foo1/hello')).toBe('hello\n');
  expect(await image.stat('/foo2')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0 });
  // As Kaniko records it: VOLUME adds no layer; its directory is in the next step's layer.
  const history = (image.config.history ?? []).slice(-4);
  expect(history.map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
    ['VOLUME [/foo1]', true],
    ['RUN /bin/sh -c echo hello > /foo1/hello # buildkit', false],
    ['VOLUME [/foo2 /bin]', true],
    ['COPY f.txt /f.txt # buildkit', false],
  ]);
  expect(image.layers).toHaveLength(3);
  expect(await image.layerEntries(1)).toEqual(['foo1/', 'foo1/hello']);
  expect(await image.layerEntries(2)).toEqual(['f.txt', 'foo2/']);
});
