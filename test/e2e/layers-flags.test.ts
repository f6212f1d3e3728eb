/**
 * Issue 6: Kaniko's layer flags, each honoured end to end — `--snapshot-mode`,
 * `--single-snapshot`, `--ignore-path`, `--ignore-var-run`, `--compression(-level)`,
 * `--reproducible` — checked in the image with skopeo, umoci and GNU tar.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectImage, type InspectedImage } from '../support/inspect.js';
import { layoutLayer } from '../support/layers-listing.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

interface Built {
  stdout: string;
  layout: string;
  image: InspectedImage;
}

async function build(lines: string[], flags: string[], opts: { env?: Record<string, string> } = {}): Promise<Built> {
  const ctx = await tempDir('flags-ctx');
  await writeFile(join(ctx, 'Dockerfile'), ['ARG BASE', 'FROM ${BASE}', ...lines, ''].join('\n'));
  await writeFile(join(ctx, 'copied.txt'), 'copied\n');
  const out = await tempDir('flags-out');
  const layout = join(out, 'layout');
  const r = await runExecutor(
    [
      '--context',
      ctx,
      '--no-push',
      '--oci-layout-path',
      layout,
      '--insecure-pull',
      '--build-arg',
      `BASE=${env.base.ref}`,
      ...flags,
    ],
    opts,
  );
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ ociLayout: layout });
  onTestFinished(() => image.cleanup());
  return { stdout: r.stdout, layout, image };
}

/** Which of the stage's own instructions added a layer. */
const layered = (b: Built): boolean[] => (b.image.config.history ?? []).slice(1).map((h) => !h.empty_layer);

test.each([
  ['full', [true, true, true]],
  ['redo', [true, true, true]],
  ['time', [true, false, true]],
] as const)('--snapshot-mode=%s: touch, chmod, write make layers %j', async (mode, expected) => {
  const b = await build(
    ['RUN touch /etc/passwd', 'RUN chmod 600 /etc/group', 'RUN echo new > /etc/new'],
    [`--snapshot-mode=${mode}`],
  );
  expect(layered(b)).toEqual(expected);
  expect(b.image.layers).toHaveLength(1 + expected.filter(Boolean).length);
  expect(await b.image.stat('/etc/group')).toMatchObject({ mode: mode === 'time' ? 0o644 : 0o600 });
});

test('--single-snapshot: one layer for the whole stage, with every change in it', async () => {
  const b = await build(
    ['RUN mkdir /a && echo one > /a/one', 'COPY copied.txt /a/', 'RUN rm /etc/group && echo two > /a/two', 'ENV X=1'],
    ['--single-snapshot'],
  );
  expect(b.image.layers).toHaveLength(2);
  // Kaniko credits the stage's one layer to its last instruction.
  expect(layered(b)).toEqual([false, false, false, true]);
  const { names } = await layoutLayer(b.layout, 1);
  expect(names).toEqual(['a/', 'a/copied.txt', 'a/one', 'a/two', 'etc/', 'etc/.wh.group']);
  expect(await b.image.readFile('/a/copied.txt')).toBe('copied\n');
  expect(await b.image.exists('/etc/group')).toBe(false);
});

test('--ignore-path and --ignore-var-run keep those paths out of layers, and --ignore-var-run=false keeps them', async () => {
  const lines = [
    'RUN mkdir -p /cache/deep /var/run && echo x > /cache/deep/x && echo 1 > /var/run/app.pid && echo kept > /kept',
    'COPY copied.txt /cache/',
  ];
  const ignored = await build(lines, ['--ignore-path', '/cache']);
  expect((await layoutLayer(ignored.layout, 1)).names).toEqual(['kept', 'var/']);
  expect(layered(ignored)).toEqual([true, false]);
  const kept = await build(lines, ['--ignore-var-run=false']);
  expect((await layoutLayer(kept.layout, 1)).names).toEqual([
    'cache/',
    'cache/deep/',
    'cache/deep/x',
    'kept',
    'var/',
    'var/run/',
    'var/run/app.pid',
  ]);
  expect(await kept.image.readFile('/var/run/app.pid')).toBe('1\n');
});

test('--reproducible: file times at the epoch, created 1970, the same digest at another time', async () => {
  const lines = ['RUN echo same > /same && mkdir /d && touch /d/f', 'COPY copied.txt /'];
  const one = await build(lines, ['--reproducible']);
  // Built again, seconds later: every file of the new layers has other real mtimes.
  const two = await build(lines, ['--reproducible']);
  expect(one.image.digest).toBe(two.image.digest);
  expect(one.image.config.created).toBe('1970-01-01T00:00:00Z');
  expect(
    one.image.config.history?.slice(1).every((h) => (h as { created?: string }).created === '1970-01-01T00:00:00Z'),
  ).toBe(true);
  const { verbose } = await layoutLayer(one.layout, 1);
  expect(verbose.length).toBeGreaterThan(0);
  expect(verbose.every((l) => / 1970-01-01 00:00 /.test(l))).toBe(true);
  // The base layer is the base's, byte for byte.
  expect(one.image.layers[0]).toBe(env.base.layers[0]);
});

test('--compression=zstd with --compression-level writes zstd layers others can read', async () => {
  const b = await build(['RUN seq 1 20000 > /numbers'], ['--compression=zstd', '--compression-level=19']);
  expect(b.image.manifest.layers.map((l) => l.mediaType)).toEqual([
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+zstd',
  ]);
  const layer = await layoutLayer(b.layout, 1);
  expect(layer.names).toEqual(['numbers']);
  expect((await b.image.readFile('/numbers')).split('\n')[19999]).toBe('20000');
});
