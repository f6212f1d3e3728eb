/**
 * Issue 13, items 5 and 8: Kaniko command lines run unchanged — pflag's short forms, the
 * deprecated spellings (with Kaniko's warning), `--verbosity` in any case, `executor help`,
 * `KANIKO_DIR`, the tag-with-digest file, `--force-build-metadata`, and Kaniko's refusal of a
 * name file without a destination. Builds start FROM scratch: no registry needed.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';

async function context(lines: string[]): Promise<string> {
  const ctx = await tempDir('kaniko-cli-ctx');
  await writeFile(join(ctx, 'Dockerfile'), ['FROM scratch', ...lines, ''].join('\n'));
  await writeFile(join(ctx, 'hello.txt'), 'hello\n');
  return ctx;
}

test('`executor help` prints the usage on stdout and exits 0', async () => {
  const r = await runExecutor(['help']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^Usage: executor/);
  expect(r.stdout).toContain('--destination');
});

test("a Kaniko command line with pflag's short forms and deprecated flags builds, warning about each", async () => {
  const ctx = await context(['COPY hello.txt /hello.txt']);
  const out = await tempDir('kaniko-cli-out');
  const r = await runExecutor([
    '-f=Dockerfile',
    `-c=dir://${ctx}`,
    '-v=INFO',
    '--no-push',
    '-d=kiln.test/app:1',
    '-d',
    'kiln.test/other',
    `--tarPath=${join(out, 'image.tar')}`,
    '--snapshotMode',
    'redo',
    '--whitelist-var-run=false',
    `--digest-file=${join(out, 'digest')}`,
    `--image-name-with-digest-file=${join(out, 'names')}`,
    '--image-name-tag-with-digest-file',
    join(out, 'tags'),
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  for (const [old, now] of [
    ['tarPath', 'tar-path'],
    ['snapshotMode', 'snapshot-mode'],
    ['whitelist-var-run', 'ignore-var-run'],
  ])
    expect(r.stderr).toContain(`Flag --${old} is deprecated. Use: --${now}`);
  expect(existsSync(join(out, 'image.tar'))).toBe(true);
  const digest = (await readFile(join(out, 'digest'), 'utf8')).trim();
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(await readFile(join(out, 'names'), 'utf8')).toBe(`kiln.test/app@${digest}\nkiln.test/other@${digest}\n`);
  expect(await readFile(join(out, 'tags'), 'utf8')).toBe(
    `kiln.test/app:1@${digest}\nkiln.test/other:latest@${digest}\n`,
  );
});

test.each(['--image-name-with-digest-file', '--image-name-tag-with-digest-file'])(
  '%s without --destination exits 2 as in Kaniko, and writes no file',
  async (flag) => {
    const ctx = await context(['COPY hello.txt /hello.txt']);
    const out = await tempDir('kaniko-cli-out');
    const r = await runExecutor(['--context', ctx, '--no-push', `${flag}=${join(out, 'names')}`]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`you must provide --destination if setting ${flag}`);
    expect(existsSync(join(out, 'names'))).toBe(false);
  },
);

test('--force-build-metadata gives every instruction a layer, an empty one where nothing changed', async () => {
  const ctx = await context(['COPY hello.txt /hello.txt', 'ENV A=1', 'LABEL l=v']);
  const out = await tempDir('kaniko-cli-out');
  const layout = join(out, 'layout');
  const r = await runExecutor(['--context', ctx, '--no-push', '--oci-layout-path', layout, '--force-build-metadata']);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ ociLayout: layout });
  onTestFinished(() => image.cleanup());
  expect(image.layers).toHaveLength(3);
  expect((image.config.history ?? []).map((h) => h.empty_layer ?? false)).toEqual([false, false, false]);
  expect(await image.layerEntries(1)).toEqual([]);
  expect(await image.readFile('/hello.txt')).toBe('hello\n');
});

test('KANIKO_DIR is where the build works unless --kaniko-dir says otherwise', async () => {
  const ctx = await context(['COPY hello.txt /hello.txt']);
  const base = await tempDir('kaniko-cli-dir');
  const fromEnv = join(base, 'env', 'kaniko');
  const r = await runExecutor(['--context', ctx, '--no-push'], { env: { KANIKO_DIR: fromEnv } });
  expect(r.exitCode, r.stderr).toBe(0);
  // The build's scratch directory was made in it, and removed at the end.
  expect(existsSync(fromEnv)).toBe(true);

  const fromFlag = join(base, 'flag');
  const other = join(base, 'env2');
  const r2 = await runExecutor(['--context', ctx, '--no-push', `--kaniko-dir=${fromFlag}`], {
    env: { KANIKO_DIR: other },
  });
  expect(r2.exitCode, r2.stderr).toBe(0);
  expect(existsSync(fromFlag)).toBe(true);
  expect(existsSync(other)).toBe(false);
});

test('--cache with nowhere to keep the cache is exit 2, saying what to give', async () => {
  const ctx = await context(['COPY hello.txt /hello.txt']);
  const r = await runExecutor(['--context', ctx, '--no-push', '--cache=true']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('--cache needs a --cache-repo, or a --destination to keep the cache beside');
  expect(r.stderr).toContain('oci:DIR for a local cache');
});
