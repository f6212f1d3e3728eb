/**
 * ADD of local archives end to end (fixtures/add-archive): plain, gzip, bzip2, xz and zstd tars
 * are unpacked (sniffed by content, never by name) with the archive's owners, modes and links and
 * without whiteout processing; files that are not archives, empty tars and `--unpack=false`
 * sources are copied as files. The archives are made here with the system's tar and compressors.
 */
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { run } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

/** A context with payload/ and the archives of it ADD must unpack, and two files it must not. */
async function context(): Promise<string> {
  const ctx = await tempDir('add-archive');
  const payload = join(ctx, 'payload');
  await mkdir(join(payload, 'bin'), { recursive: true });
  await writeFile(join(payload, 'hello.txt'), 'hello\n');
  await chmod(join(payload, 'hello.txt'), 0o640);
  await writeFile(join(payload, 'bin', 'run'), '#!/bin/sh\n');
  await chmod(join(payload, 'bin', 'run'), 0o755);
  await writeFile(join(payload, '.wh.keep'), 'not a whiteout\n');
  await symlink('hello.txt', join(payload, 'link'));
  const tar = (file: string, ...compress: string[]): Promise<Buffer> =>
    run('tar', [
      '-C',
      ctx,
      '--owner=1234',
      '--group=5678',
      '--numeric-owner',
      ...compress,
      '-cf',
      join(ctx, file),
      'payload',
    ]);
  await tar('plain.tar');
  await tar('gz.tar.gz', '--gzip');
  await tar('bz.tbz', '--bzip2');
  await tar('xz.txz', '--xz');
  await tar('zst.tar.zst', '--zstd');
  await writeFile(join(ctx, 'fake.tar.gz'), 'not an archive\n');
  await run('tar', ['-cf', join(ctx, 'empty.tar'), '-T', '/dev/null']);
  return ctx;
}

test('ADD unpacks local tar archives of every compression and copies everything else', async () => {
  const dest = `${env.reg.host}/e2e/add-archive:1`;
  const r = await runExecutor([
    '--context',
    await context(),
    '--dockerfile',
    fixture('add-archive', 'Dockerfile'),
    '--destination',
    dest,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ registry: dest });
  onTestFinished(() => image.cleanup());

  for (const dir of ['/plain', '/gz', '/bz', '/xz', '/zst', '/owned']) {
    expect(await image.readFile(`${dir}/payload/hello.txt`), dir).toBe('hello\n');
    expect(await image.stat(`${dir}/payload/hello.txt`), dir).toMatchObject({ mode: 0o640, uid: 1234, gid: 5678 });
    expect(await image.stat(`${dir}/payload/bin/run`), dir).toMatchObject({ mode: 0o755 });
    expect(await image.stat(`${dir}/payload/link`), dir).toMatchObject({ type: 'symlink', linkTarget: 'hello.txt' });
  }
  expect(await image.readFile('/wh-seen')).toBe('not a whiteout\n');
  expect(await image.stat('/owned')).toMatchObject({ type: 'dir', uid: 1000, gid: 1000 });
  expect(await image.readFile('/files/fake.tar.gz')).toBe('not an archive\n');
  expect(await image.stat('/files/empty.tar')).toMatchObject({ type: 'file', size: 10240 });
  expect(await image.stat('/kept/gz.tar.gz')).toMatchObject({ type: 'file' });
  expect(await image.exists('/kept/payload')).toBe(false);
  expect(await image.stat('/payload-dir/hello.txt')).toMatchObject({ mode: 0o640, uid: 1000, gid: 1000 });
  expect(await image.exists('/payload-dir/.wh.keep')).toBe(false);
});
