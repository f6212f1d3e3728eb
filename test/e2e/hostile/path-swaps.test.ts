/**
 * Hostile-build corpus, issue 11 findings 2 and 5: paths Kiln touches after untrusted code or
 * untrusted tar entries ran (mount points, chroot mode's /dev nodes, a `#!` heredoc's file,
 * deferred directory times) must be found again inside the rootfs, as the same inode, never
 * through a symlink the step or a later entry put in a parent. Each case swaps a parent for a
 * symlink to an absolute host path (inside the step it points nowhere; followed on the host it
 * reaches a sentinel) and checks the sentinel, the exit code, and that the build ended in time.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import {
  runExecutor,
  tempDir,
  WITHOUT_SYS_ADMIN,
  type ExecutorOptions,
  type ExecutorResult,
} from '../../support/executor.js';
import { rawTar } from '../../support/hostile-tars.js';
import { pushLayers } from '../../support/layer-images.js';
import { useRegistryWithBusybox } from '../../support/suite.js';

const env = useRegistryWithBusybox();
const BOUND_MS = 60_000;
/** A time no tar entry here carries (they say 2020-09-13), to see whether a deferred mtime landed. */
const OLD = new Date('2001-01-01T00:00:00Z');

/** Builds `dockerfile` (with `BASE` = `base`, default busybox) without pushing; `--kaniko-dir` is a temp dir. */
async function build(
  dockerfile: string,
  opts: ExecutorOptions & { base?: string; files?: Record<string, Buffer> } = {},
): Promise<ExecutorResult> {
  const ctx = await tempDir('swap-ctx');
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  for (const [name, data] of Object.entries(opts.files ?? {})) await writeFile(join(ctx, name), data);
  const kaniko = await tempDir('swap-kaniko');
  const r = await runExecutor(
    [
      '--context',
      ctx,
      '--no-push',
      '--insecure-pull',
      '--build-arg',
      `BASE=${opts.base ?? env.base.ref}`,
      '--kaniko-dir',
      kaniko,
      '--verbosity',
      'debug',
    ],
    { timeoutMs: BOUND_MS, ...opts },
  );
  expect(r.exitCode, r.stderr).not.toBeNull();
  return r;
}

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('a RUN --mount target whose parent the step swapped for a symlink: the host directory it names survives', async () => {
  const host = await tempDir('swap-mount');
  await mkdir(join(host, 'd', 'x'), { recursive: true }); // empty, as rmdir would take it
  const r = await build(
    `ARG BASE\nFROM \${BASE}\nRUN --mount=type=tmpfs,target=/c/d/x mv /c /c.old && ln -s ${host} /c\n`,
  );
  expect(await exists(join(host, 'd', 'x'))).toBe(true);
  expect(r.exitCode, r.stderr).toBe(0);
});

test('chroot mode: /dev swapped for a symlink to a host directory keeps the device node there', async () => {
  const host = await tempDir('swap-dev');
  // A device node: the old clean-up removed only what was still a character device, so a
  // regular file would not show the bug.
  await promisify(execFile)('mknod', [join(host, 'null'), 'c', '1', '3']);
  const r = await build(`ARG BASE\nFROM \${BASE}\nRUN rm -rf /dev && ln -s ${host} /dev\n`, {
    prefix: WITHOUT_SYS_ADMIN,
  });
  expect(r.stderr).toMatch(/isolation.*chroot/);
  expect((await lstat(join(host, 'null'))).isCharacterDevice()).toBe(true);
  expect(r.exitCode, r.stderr).toBe(0);
});

test('chroot mode: a #! heredoc that swaps /dev for a symlink leaves the host file of its name alone', async () => {
  const host = await tempDir('swap-pipes');
  await mkdir(join(host, 'pipes'));
  await writeFile(join(host, 'pipes', 'SWAP'), 'precious\n');
  const r = await build(`ARG BASE\nFROM \${BASE}\nRUN <<SWAP\n#!/bin/sh\nrm -rf /dev && ln -s ${host} /dev\nSWAP\n`, {
    prefix: WITHOUT_SYS_ADMIN,
  });
  expect(r.stderr).toMatch(/isolation.*chroot/);
  expect(await exists(join(host, 'pipes', 'SWAP'))).toBe(true);
  expect(r.exitCode, r.stderr).toBe(0);
});

test.each([
  ['busybox, whose /etc has no resolv.conf or hosts', undefined],
  ['an image with its own /etc/hosts', 'COPY hosts /etc/hosts\n'],
])(
  'chroot mode: /etc swapped for a symlink to a host directory (%s): the host files of those names are left alone',
  async (_, copy) => {
    // Restoring the image's /etc files must find /etc again as the directory it was, never follow
    // the symlink to the host (issue 13).
    const host = await tempDir('swap-etc');
    const sentinels = { hosts: 'host hosts\n', 'resolv.conf': 'host resolv\n', hostname: 'host name\n' };
    for (const [name, text] of Object.entries(sentinels)) await writeFile(join(host, name), text);
    const r = await build(
      `ARG BASE\nFROM \${BASE}\n${copy ?? ''}RUN mv /etc /etc.old && ln -s ${host} /etc && rm -rf /dev/shm && ln -s ${host} /dev/shm\n`,
      { prefix: WITHOUT_SYS_ADMIN, files: { hosts: Buffer.from('image hosts\n') } },
    );
    expect(r.stderr).toMatch(/isolation.*chroot/);
    for (const [name, text] of Object.entries(sentinels)) expect(await readFile(join(host, name), 'utf8')).toBe(text);
    expect(r.exitCode, r.stderr).toBe(0);
  },
);

/** A tar with directories a/ and a/b/ (deferred mtimes), then `a` replaced by a symlink to `host`. */
const swappedDirTar = (host: string): Buffer =>
  rawTar([
    { name: 'a/', type: '5' },
    { name: 'a/b/', type: '5' },
    { name: 'a', type: '2', linkname: host },
  ]);

async function sentinelDir(prefix: string): Promise<{ dir: string; mtimeMs: () => Promise<number> }> {
  const host = await tempDir(prefix);
  await mkdir(join(host, 'b'));
  await utimes(join(host, 'b'), OLD, OLD);
  return { dir: host, mtimeMs: async () => (await stat(join(host, 'b'))).mtimeMs };
}

test('a base layer that turns a directory into a symlink after listing a subdirectory: the host directory keeps its mtime', async () => {
  const sentinel = await sentinelDir('swap-layer');
  const base = await pushLayers(env.reg, 'hostile/swap', 'dirtime', [swappedDirTar(sentinel.dir)]);
  const r = await build('ARG BASE\nFROM ${BASE}\nLABEL swapped=1\n', { base });
  expect(await sentinel.mtimeMs()).toBe(OLD.getTime());
  expect(r.exitCode, r.stderr).toBe(0);
});

test('an ADD archive that turns a directory into a symlink after listing a subdirectory: the host directory keeps its mtime', async () => {
  const sentinel = await sentinelDir('swap-add');
  const r = await build('FROM scratch\nADD swap.tar /dest/\n', { files: { 'swap.tar': swappedDirTar(sentinel.dir) } });
  expect(await sentinel.mtimeMs()).toBe(OLD.getTime());
  expect(r.exitCode, r.stderr).toBe(0);
});
