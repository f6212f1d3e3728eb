/**
 * Issue 6 acceptance: every layer of the hostile corpus makes the real executor fail with exit
 * 5 naming the layer, and nothing outside the rootfs changes — neither the sentinel tree the
 * layers aim at nor the `--kaniko-dir` around the build.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { hostileCorpus, treeFingerprint } from '../support/hostile-tars.js';
import { pushLayers } from '../support/layer-images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg.stop();
});

/** The sentinel tree the corpus aims at (its path is baked into the tars, so it is made first). */
async function sentinelTree(): Promise<string> {
  const dir = await tempDir('sentinel');
  await writeFile(join(dir, 'victim'), 'precious\n');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'inner'), 'also precious\n');
  return dir;
}

test('the corpus has at least 12 hostile layers', () => {
  expect(hostileCorpus('/tmp/x').length).toBeGreaterThanOrEqual(12);
});

test('every hostile layer fails the build with exit 5, naming the layer, and changes nothing outside the rootfs', async () => {
  const sentinel = await sentinelTree();
  const before = await treeFingerprint(sentinel);
  const ctx = await tempDir('hostile-ctx');
  await writeFile(join(ctx, 'Dockerfile'), 'ARG BASE\nFROM ${BASE}\nLABEL hostile=1\n');
  const corpus = hostileCorpus(sentinel);
  const failures: string[] = [];
  for (const [i, c] of corpus.entries()) {
    const base = await pushLayers(reg, 'hostile/case', String(i), [c.tar]);
    const kanikoDir = await tempDir('hostile-kaniko');
    const r = await runExecutor(
      ['--context', ctx, '--no-push', '--insecure-pull', '--build-arg', `BASE=${base}`, '--kaniko-dir', kanikoDir],
      { timeoutMs: 30_000 },
    );
    if (r.exitCode !== 5) failures.push(`${c.name}: exit ${String(r.exitCode)}\n${r.stderr}`);
    else if (!/^error: layer layer 1\/1 \(sha256:[0-9a-f]{64}\)/m.test(r.stderr))
      failures.push(`${c.name}: the error does not name the layer:\n${r.stderr}`);
    // The build's scratch directory is gone and nothing was planted beside it.
    const left = await readdir(kanikoDir);
    if (left.length > 0) failures.push(`${c.name}: left ${left.join(', ')} in --kaniko-dir`);
  }
  expect(failures).toEqual([]);
  expect(await treeFingerprint(sentinel)).toBe(before);
});
