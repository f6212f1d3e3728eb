/**
 * The layer cache in the stage builder (issue 15), in process with an in-memory cache: which
 * steps hit and which run again, that a rebuild from the cache gives the cold build's image, that
 * a step whose output is unchanged lets the steps after it hit (keys chain on content), that a
 * fully cached build reads no cached layer, and that a corrupt entry is built again with a warning.
 * The real stores and the CLI are tested against a real registry in test/e2e/layer-cache*.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { imageDigest } from '../../src/oci/image.js';
import { FakeRunner } from '../support/fake-runner.js';
import { buildInProcess, layerNames, type Files } from '../support/in-process-build.js';
import { MemoryLayerCache } from '../support/memory-layer-cache.js';

const DOCKERFILE = `FROM scratch
ARG FLAVOUR=plain
WORKDIR /app
COPY package.json .
RUN install
COPY src/ src/
RUN build
`;

const CONTEXT: Files = { 'package.json': '{"name":"app"}\n', 'src/main.js': 'main()\n', 'src/util.js': 'util()\n' };

/** A runner whose `install` writes the same modules whatever FLAVOUR is, and `build` bundles src/. */
function runner(): FakeRunner {
  return new FakeRunner({
    install: (s) => s.write('/app/node_modules/dep/index.js', 'dep\n'),
    build: async (s) => {
      const parts = await Promise.all(['main.js', 'util.js'].map((f) => readFile(s.host(`/app/src/${f}`), 'utf8')));
      await s.write('/app/dist/bundle.js', parts.join(''));
    },
  });
}

/** The `step` part of a key whose instruction is `text` (cache/step-key.ts). */
const stepPart = (text: string): string => `sha256:${createHash('sha256').update(JSON.stringify(text)).digest('hex')}`;

const OPTIONS = { cache: true, cacheRepo: 'oci:/unused', cacheCopyLayers: true, reproducible: true };

async function build(cache: MemoryLayerCache, context: Files = CONTEXT, buildArg: string[] = []) {
  const r = runner();
  const out = await buildInProcess({
    dockerfile: DOCKERFILE,
    context,
    runner: r,
    layerCache: cache,
    options: { ...OPTIONS, buildArg },
  });
  const verdicts = out.logs
    .filter((l) => / cache (hit|miss) /.test(l))
    .map((l) => (l.includes('hit') ? 'hit' : 'miss'));
  return { ...out, ran: r.specs.map((s) => s.argv.at(-1)), verdicts };
}

test('a rebuild takes every step from the cache, runs nothing, reads no layer, and gives the cold image', async () => {
  const cache = new MemoryLayerCache();
  const cold = await build(cache);
  expect(cold.verdicts).toEqual(['miss', 'miss', 'miss', 'miss', 'miss']);
  expect(cold.ran).toEqual(['install', 'build']);
  const warm = await build(cache);
  expect(warm.verdicts).toEqual(['hit', 'hit', 'hit', 'hit', 'hit']);
  expect(warm.ran).toEqual([]);
  expect(cache.reads).toBe(0);
  expect(imageDigest(warm.image)).toBe(imageDigest(cold.image));
});

test('a changed source file reruns its COPY and the steps after it; the image is a cold build’s', async () => {
  const cache = new MemoryLayerCache();
  await build(cache);
  const changed = { ...CONTEXT, 'src/util.js': 'util(2)\n' };
  const warm = await build(cache, changed);
  expect(warm.verdicts).toEqual(['hit', 'hit', 'hit', 'miss', 'miss']);
  expect(warm.ran).toEqual(['build']);
  expect(await layerNames(warm.image, warm.image.layers.length - 1)).toContain('app/dist/bundle.js');
  const fresh = await build(new MemoryLayerCache(), changed);
  expect(imageDigest(warm.image)).toBe(imageDigest(fresh.image));
});

test('only a file’s mode changing reruns the COPY of it', async () => {
  const cache = new MemoryLayerCache();
  await build(cache);
  const warm = await build(cache, { ...CONTEXT, 'src/main.js': { content: 'main()\n', mode: 0o755 } });
  expect(warm.verdicts).toEqual(['hit', 'hit', 'hit', 'miss', 'miss']);
});

test('a build arg no ARG declares reruns nothing; one the RUN sees reruns it, and an identical layer lets the rest hit', async () => {
  const cache = new MemoryLayerCache();
  await build(cache);
  expect((await build(cache, CONTEXT, ['UNDECLARED=1'])).verdicts).toEqual(['hit', 'hit', 'hit', 'hit', 'hit']);
  const flavoured = await build(cache, CONTEXT, ['FLAVOUR=spicy']);
  // WORKDIR and COPY do not use FLAVOUR; install sees it and runs, and writes the same layer: the
  // COPY after it, chained on that content, hits (Kaniko's keys, chained on keys, would miss);
  // the last RUN sees FLAVOUR too and runs, as under Docker.
  expect(flavoured.verdicts).toEqual(['hit', 'hit', 'miss', 'hit', 'miss']);
  expect(flavoured.ran).toEqual(['install', 'build']);
});

test('entries older than --cache-ttl are misses', async () => {
  const cache = new MemoryLayerCache();
  await build(cache);
  cache.age(15 * 24 * 3600_000);
  expect((await build(cache)).verdicts).toEqual(['miss', 'miss', 'miss', 'miss', 'miss']);
});

test('a corrupt cached layer is a warning and its step is built again; the image is still right', async () => {
  const cache = new MemoryLayerCache();
  await build(cache);
  expect(cache.corrupt((e) => e.key.parts.step === stepPart('RUN install'))).toBe(1);
  const changed = { ...CONTEXT, 'src/util.js': 'util(3)\n' };
  const warm = await build(cache, changed);
  expect(
    warm.logs.some((l) =>
      /^WARN the cached layer of step 4 \(RUN install\): digest mismatch, .*; building the step instead of using the cache$/.test(
        l,
      ),
    ),
  ).toBe(true);
  expect(warm.ran).toEqual(['install', 'build']);
  const fresh = await build(new MemoryLayerCache(), changed);
  expect(imageDigest(warm.image)).toBe(imageDigest(fresh.image));
});

const MULTI = `FROM scratch AS deps
WORKDIR /app
COPY package.json .
RUN install
FROM scratch
COPY --from=deps /app/node_modules /app/node_modules
COPY src/ /app/src/
RUN build
`;

/** The multi-stage build's verdicts, in log order per stage. */
async function buildMulti(cache: MemoryLayerCache, context: Files, dockerfile = MULTI) {
  const r = runner();
  const out = await buildInProcess({ dockerfile, context, runner: r, layerCache: cache, options: OPTIONS });
  const of = (stage: string): string[] =>
    out.records
      .filter((r) => /^cache (hit|miss) /.test(r.msg) && r.fields?.stage === stage)
      .map((r) => (r.msg.startsWith('cache hit') ? 'hit' : 'miss'));
  return { ...out, ran: r.specs.map((s) => s.argv.at(-1)), deps: of('deps'), final: of('1') };
}

test('multi-stage: a stage’s cached layers come in when a later stage copies from it; each change reruns what it must', async () => {
  const cache = new MemoryLayerCache();
  const context = { ...CONTEXT, '.dockerignore': 'notes.txt\n', 'notes.txt': 'v1\n' };
  const cold = await buildMulti(cache, context);
  expect([cold.deps, cold.final]).toEqual([
    ['miss', 'miss', 'miss'],
    ['miss', 'miss', 'miss'],
  ]);
  // An ignored file changing reruns nothing.
  const ignored = await buildMulti(cache, { ...context, 'notes.txt': 'v2\n' });
  expect([ignored.deps, ignored.final, ignored.ran]).toEqual([['hit', 'hit', 'hit'], ['hit', 'hit', 'hit'], []]);
  expect(imageDigest(ignored.image)).toBe(imageDigest(cold.image));
  // The manifest changing reruns the deps stage from its COPY; the final stage's COPY --from gets
  // the same files, so it and the rest hit.
  const manifest = await buildMulti(cache, { ...context, 'package.json': '{"name":"app","v":2}\n' });
  expect([manifest.deps, manifest.final, manifest.ran]).toEqual([
    ['hit', 'miss', 'miss'],
    ['hit', 'hit', 'hit'],
    ['install'],
  ]);
  // A source change reruns the final stage from its COPY; deps is brought in for COPY --from.
  const source = await buildMulti(cache, { ...context, 'src/main.js': 'main(2)\n' });
  expect([source.deps, source.final, source.ran]).toEqual([['hit', 'hit', 'hit'], ['hit', 'miss', 'miss'], ['build']]);
  const fresh = await buildMulti(new MemoryLayerCache(), { ...context, 'src/main.js': 'main(2)\n' });
  expect(imageDigest(source.image)).toBe(imageDigest(fresh.image));
  // A Dockerfile line changing reruns that step; here it copies the same files, so the RUN after it hits.
  const edited = await buildMulti(cache, context, MULTI.replace('COPY src/ /app/src/', 'COPY src /app/src'));
  expect([edited.final, edited.ran]).toEqual([['hit', 'miss', 'hit'], []]);
});

test('Kaniko’s defaults (COPY not cached, no --reproducible): COPY runs again and the RUNs above it still hit', async () => {
  const cache = new MemoryLayerCache();
  const options = { cache: true, cacheRepo: 'oci:/unused' };
  const first = await buildInProcess({
    dockerfile: DOCKERFILE,
    context: CONTEXT,
    runner: runner(),
    layerCache: cache,
    options,
  });
  expect(first.logs.filter((l) => / cache (hit|miss) /.test(l))).toHaveLength(3);
  // A second later: a COPY run again gives a layer with other times, which its key stands for.
  await new Promise((r) => setTimeout(r, 1100));
  const r = runner();
  const again = await buildInProcess({
    dockerfile: DOCKERFILE,
    context: CONTEXT,
    runner: r,
    layerCache: cache,
    options,
  });
  expect(again.logs.filter((l) => / cache (hit|miss) /.test(l)).map((l) => l.split(' ')[2])).toEqual([
    'hit',
    'hit',
    'hit',
  ]);
  expect(r.specs).toEqual([]);
});
