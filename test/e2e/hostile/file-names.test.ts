/**
 * Hostile-build corpus, file names (issue 11, finding 10): Linux names are bytes, and a name
 * that is not valid UTF-8 must survive every path through Kiln — extraction of a base layer, a
 * RUN that creates one, a RUN that deletes one (a whiteout of the exact bytes), symlink targets,
 * COPY from the context and ADD of a local archive — and come out of the pushed image byte for
 * byte, as `umoci unpack` and GNU tar (independent of Kiln's code) read it. Beside each hostile
 * name sits its lossy twin (the same name with U+FFFD where the bad byte was): a reader that
 * decodes names as UTF-8 would confuse the two, so the twins must come out untouched.
 */
import { chmod, copyFile, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir } from '../../support/executor.js';
import { treeFingerprint } from '../../support/hostile-tars.js';
import { inspectImage } from '../../support/inspect.js';
import { gnuTarLayer, pushLayers } from '../../support/layer-images.js';
import { startRegistry } from '../../support/registry.js';
import { run } from '../../support/run.js';

/** A name from a string whose characters are bytes (`'bad\xffname'` is 62 61 64 ff …). */
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
/** The name a UTF-8 decoder would make of `bytes(s)`: the bad bytes turned into U+FFFD. */
const twin = (s: string): Buffer => Buffer.from(s.replace(/[\x80-\xff]/g, '\ufffd'), 'utf8');
/** A host path of byte components under `root`. */
const at = (root: string, ...parts: (string | Buffer)[]): Buffer =>
  Buffer.concat([
    Buffer.from(root),
    ...parts.flatMap((p) => [Buffer.from('/'), typeof p === 'string' ? Buffer.from(p) : p]),
  ]);
const hex = (names: Buffer[]): string[] => names.map((n) => n.toString('hex')).sort();

/** A base layer: busybox and its applets, hostile names and their twins. */
async function baseLayer(): Promise<Buffer> {
  const stage = await tempDir('names-base');
  await mkdir(join(stage, 'bin'));
  await copyFile('/bin/busybox', join(stage, 'bin/busybox'));
  await chmod(join(stage, 'bin/busybox'), 0o755);
  for (const a of (await run('/bin/busybox', ['--list'])).toString().split('\n')) {
    if (a && a !== 'busybox') await symlink('busybox', join(stage, 'bin', a));
  }
  await mkdir(join(stage, 'etc'));
  await writeFile(join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(stage, 'etc/group'), 'root:x:0:\n');
  await mkdir(join(stage, 'dir'));
  await writeFile(at(stage, 'dir', bytes('bad\xffname')), 'A\n');
  await writeFile(at(stage, 'dir', twin('bad\xffname')), 'decoy\n');
  await mkdir(at(stage, bytes('d\xfe')));
  await writeFile(at(stage, bytes('d\xfe'), 'inner'), 'B\n');
  await writeFile(at(stage, bytes('gone\xfd')), 'C\n');
  await writeFile(at(stage, twin('gone\xfd')), 'decoy\n');
  await symlink(Buffer.concat([Buffer.from('dir/'), bytes('bad\xffname')]), at(stage, bytes('link\xfc')));
  return gnuTarLayer(stage, ['.']);
}

const DOCKERFILE = [
  'ARG BASE',
  'FROM ${BASE}',
  // (a) the base layer's names arrived as bytes: contents, a directory, a symlink target.
  `RUN test "$(cat "/dir/$(printf 'bad\\377name')")" = A && test "$(cat "/d$(printf '\\376')/inner")" = B && test "$(readlink "/$(printf 'link\\374')")" = "dir/$(printf 'bad\\377name')"`,
  // (b) names made by a RUN; (c) a name deleted by a RUN.
  `RUN touch "/dir/$(printf 'new\\376name')" && mkdir "/n$(printf '\\373')" && echo D > "/n$(printf '\\373')/f" && rm "/$(printf 'gone\\375')"`,
  // (d) names in the build context, copied whole and matched by a wildcard.
  'COPY ctx/ /ctx/',
  'COPY ctx/c* /star/',
  // ADD's archive extraction reads names with the same tar reader.
  'ADD arch.tar /arch/',
  '',
].join('\n');

test('a name that is not valid UTF-8 survives a base layer, RUN, a whiteout, COPY and ADD, byte for byte', async () => {
  const reg = await startRegistry();
  onTestFinished(() => reg.stop());
  const sentinel = await tempDir('names-sentinel');
  await writeFile(join(sentinel, 'victim'), 'precious\n');
  await writeFile(at(sentinel, twin('gone\xfd')), 'precious\n');
  const before = await treeFingerprint(sentinel);
  const base = await pushLayers(reg, 'names/base', 'v1', [await baseLayer()]);

  const ctx = await tempDir('names-ctx');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await mkdir(join(ctx, 'ctx'));
  await writeFile(at(ctx, 'ctx', bytes('c\xfaname')), 'E\n');
  await mkdir(at(ctx, 'ctx', bytes('s\xf9')));
  await writeFile(at(ctx, 'ctx', bytes('s\xf9'), 'x'), 'F\n');
  const archived = await tempDir('names-archive');
  await writeFile(at(archived, bytes('a\xf8')), 'G\n');
  await writeFile(join(ctx, 'arch.tar'), await gnuTarLayer(archived, ['.']));
  const dest = `${reg.host}/names/out:v1`;
  const r = await runExecutor(
    [
      '--context',
      ctx,
      '--insecure',
      '--insecure-pull',
      '--build-arg',
      `BASE=${base}`,
      '--destination',
      dest,
      '--kaniko-dir',
      await tempDir('names-kaniko'),
    ],
    { timeoutMs: 60_000 },
  );
  expect(r.exitCode, r.stderr).not.toBeNull();
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await treeFingerprint(sentinel)).toBe(before);

  const img = await inspectImage({ registry: dest });
  onTestFinished(() => img.cleanup());
  const root = img.rootfsDir;
  expect(hex(await readdir(at(root, 'dir'), { encoding: 'buffer' }))).toEqual(
    hex([bytes('bad\xffname'), twin('bad\xffname'), bytes('new\xfename')]),
  );
  expect((await readFile(at(root, 'dir', bytes('bad\xffname')))).toString()).toBe('A\n');
  expect((await readFile(at(root, 'dir', twin('bad\xffname')))).toString()).toBe('decoy\n');
  expect((await readFile(at(root, bytes('d\xfe'), 'inner'))).toString()).toBe('B\n');
  expect(await readlink(at(root, bytes('link\xfc')), { encoding: 'buffer' })).toEqual(
    Buffer.concat([Buffer.from('dir/'), bytes('bad\xffname')]),
  );
  const top = hex(await readdir(Buffer.from(root), { encoding: 'buffer' }));
  expect(top).not.toContain(bytes('gone\xfd').toString('hex'));
  expect(top).toContain(twin('gone\xfd').toString('hex'));
  expect((await readFile(at(root, bytes('n\xfb'), 'f'))).toString()).toBe('D\n');
  expect((await readFile(at(root, 'ctx', bytes('c\xfaname')))).toString()).toBe('E\n');
  expect((await readFile(at(root, 'ctx', bytes('s\xf9'), 'x'))).toString()).toBe('F\n');
  expect(hex(await readdir(at(root, 'star'), { encoding: 'buffer' }))).toEqual(hex([bytes('c\xfaname')]));
  expect((await readFile(at(root, 'arch', bytes('a\xf8')))).toString()).toBe('G\n');

  // The new layers' tars carry the exact bytes (whiteout included), and no U+FFFD anywhere.
  const entries: Buffer[] = [];
  for (let i = 1; i < img.layers.length; i++) entries.push(...(await img.layerEntryBytes(i)));
  const names = hex(entries);
  for (const want of [
    'dir/new\xfename',
    '.wh.gone\xfd',
    'n\xfb/',
    'n\xfb/f',
    'ctx/c\xfaname',
    'ctx/s\xf9/',
    'ctx/s\xf9/x',
    'star/c\xfaname',
    'arch/a\xf8',
  ]) {
    expect(names, want).toContain(bytes(want).toString('hex'));
  }
  expect(entries.filter((e) => e.includes(Buffer.from('\ufffd'))).map((e) => e.toString())).toEqual([]);
});
