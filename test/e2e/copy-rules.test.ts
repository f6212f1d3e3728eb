/**
 * COPY end to end with Docker's rules (fixtures/copy-rules): destination and trailing-slash
 * rules, WORKDIR-relative destinations, .dockerignore (and `<Dockerfile>.dockerignore`),
 * `--chmod` symbolic and octal, `--chown`, `--link`, `--exclude`, `--parents`, heredocs, and the
 * errors Docker gives — checked in the image with skopeo + umoci.
 */
import { chmod, cp, link, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

/** The fixture context in a temp dir with the modes git cannot carry and a symlink. */
async function context(): Promise<string> {
  const ctx = await tempDir('copy-ctx');
  await cp(fixture('copy-rules', 'ctx'), ctx, { recursive: true });
  const fix = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      await chmod(p, e.isDirectory() ? 0o755 : 0o644);
      if (e.isDirectory()) await fix(p);
    }
  };
  await chmod(ctx, 0o700); // the context root's own mode never reaches the image
  await fix(ctx);
  await chmod(join(ctx, 'dir', 'keep.txt'), 0o600);
  await symlink('keep.txt', join(ctx, 'dir', 'link'));
  await link(join(ctx, 'dir', 'keep.txt'), join(ctx, 'dir', 'hard.txt'));
  return ctx;
}

test('COPY follows Docker’s destination, ownership, mode, filter and heredoc rules', async () => {
  const dest = `${env.reg.host}/e2e/copy-rules:1`;
  const r = await runExecutor([
    '--context',
    await context(),
    '--dockerfile',
    fixture('copy-rules', 'Dockerfile'),
    '--destination',
    dest,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectForTest({ registry: dest });
  const file = async (p: string): Promise<string> => image.readFile(p);
  const missing = async (...paths: string[]): Promise<void> => {
    for (const p of paths) expect(await image.exists(p), p).toBe(false);
  };

  // Destinations: existing dir, new name, dir/ made, WORKDIR-relative, `.`.
  expect(await file('/etc/a.txt')).toBe('alpha\n');
  expect(await image.exists('/etc/passwd')).toBe(true);
  expect(await file('/renamed.txt')).toBe('alpha\n');
  expect(await file('/new/dir/a.txt')).toBe('alpha\n');
  expect(await file('/work/rel/a.txt')).toBe('alpha\n');
  expect(await file('/work/b.txt')).toBe('beta\n');
  // A directory's contents, modes kept, owner root, symlinks as symlinks, .dockerignore inside.
  expect(await image.stat('/copied/keep.txt')).toMatchObject({ type: 'file', mode: 0o600, uid: 0, gid: 0 });
  expect(await image.stat('/copied/link')).toMatchObject({ type: 'symlink', linkTarget: 'keep.txt' });
  const [keep, hard] = [await image.stat('/copied/keep.txt'), await image.stat('/copied/hard.txt')];
  expect([hard.ino, hard.nlink]).toEqual([keep.ino, 2]); // hardlinked in the context, hardlinked in the image
  expect(await file('/copied/sub/deep.txt')).toBe('deep\n');
  await missing('/copied/old.bak', '/copied/dir');
  expect(await readdir(join(image.rootfsDir, 'many'))).toEqual(['a.txt', 'b.txt']); // secret.txt is ignored
  // The whole context as .dockerignore shows it: `!` exceptions and `**` honoured.
  expect(await image.stat('/ctx')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0 });
  expect(await file('/ctx/.dockerignore')).toContain('secret.txt');
  expect(await file('/ctx/important.bak')).toBe('important\n');
  expect(await file('/ctx/ignored-dir/kept.md')).toBe('kept\n');
  await missing('/ctx/secret.txt', '/ctx/ignored-dir/x', '/ctx/dir/old.bak');
  // --chmod and --chown; the parents COPY makes get the --chown owner too (BuildKit MkdirAll).
  expect(await image.stat('/usr/local/bin/tool.sh')).toMatchObject({ mode: 0o744, uid: 1000, gid: 1000 });
  expect(await image.stat('/usr/local/bin')).toMatchObject({ mode: 0o755, uid: 1000, gid: 1000 });
  expect(await image.stat('/octal.txt')).toMatchObject({ mode: 0o640, uid: 1234, gid: 1234 });
  // --exclude, relative to the copied directory, `**` across directories.
  expect(await file('/excluded/keep.txt')).toBe('keep\n');
  expect(await image.stat('/excluded/link')).toMatchObject({ type: 'symlink' });
  expect(await file('/excluded/sub/other.txt')).toBe('other\n');
  await missing('/excluded/x.trace', '/excluded/sub/n.tmp');
  // --parents, with and without a /./ pivot, and from a stage (owners kept, parents like theirs).
  expect(await file('/parents/dir/sub/deep.txt')).toBe('deep\n');
  expect(await file('/parents/b.txt')).toBe('beta\n');
  expect(await readdir(join(image.rootfsDir, 'pivot', 'sub'))).toEqual(['deep.txt', 'other.txt']);
  await missing('/pivot/dir');
  expect(await image.stat('/from-stage/a/b/f.txt')).toMatchObject({ uid: 1000, gid: 1000 });
  expect(await image.stat('/from-stage/a')).toMatchObject({ type: 'dir', uid: 1000 });
  // Heredocs: expanded unless the delimiter is quoted, quotes kept, 0644 before --chmod.
  expect(await file('/heredoc/EOF')).toBe('hello world "quoted" $HOME\n');
  expect(await file('/heredoc/RAW')).toBe('raw $NAME\n');
  expect(await image.stat('/heredoc/EOF')).toMatchObject({ mode: 0o644, uid: 0 });
  expect(await file('/usr/local/bin/run.sh')).toBe('#!/bin/sh\necho "world"\n');
  expect(await image.stat('/usr/local/bin/run.sh')).toMatchObject({ mode: 0o755, uid: 1000, gid: 1000 });

  // COPY --link: its layer holds the copied files and their parents, nothing else.
  const steps = (image.config.history ?? []).filter((h) => h.empty_layer !== true);
  const linkLayer = steps.findIndex((h) => h.created_by?.includes(' /linked/'));
  expect(linkLayer).toBeGreaterThan(0);
  const entries = await image.layerEntries(linkLayer);
  expect(entries.map((e) => e.replace(/^\.?\//, '').replace(/\/$/, '')).sort()).toEqual([
    'linked',
    'linked/deep.txt',
    'linked/n.tmp',
    'linked/other.txt',
  ]);
});

test('<Dockerfile>.dockerignore next to the Dockerfile replaces the context’s .dockerignore', async () => {
  const dir = await tempDir('copy-alt');
  await writeFile(join(dir, 'alt.Dockerfile'), 'FROM scratch\nCOPY . /\n');
  // It may hide itself and the context's .dockerignore: the executor still reads what it needs.
  await writeFile(join(dir, 'alt.Dockerfile.dockerignore'), 'a.txt\ndir\n.dockerignore\n');
  const out = join(dir, 'layout');
  const r = await runExecutor([
    '--context',
    fixture('copy-rules', 'ctx'),
    '--dockerfile',
    join(dir, 'alt.Dockerfile'),
    '--no-push',
    '--oci-layout-path',
    out,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectForTest({ ociLayout: out });
  expect(await image.readFile('/secret.txt')).toBe('secret\n'); // the context's .dockerignore is not used
  expect(await image.readFile('/b.txt')).toBe('beta\n');
  for (const p of ['/a.txt', '/dir', '/.dockerignore']) expect(await image.exists(p), p).toBe(false);
  expect((await stat(join(image.rootfsDir, 'ignored-dir', 'x'))).isFile()).toBe(true);
});

test.each([
  [
    'COPY a.txt b.txt /dest',
    3,
    /:2: When using COPY with more than one source file, the destination must be a directory and end with a \//,
  ],
  ['COPY *.txt /one', 3, /:2: When using COPY with more than one source file/],
  [
    'COPY missing.txt /',
    6,
    /:2: COPY failed: file not found in build context or excluded by \.dockerignore: missing\.txt/,
  ],
  ['COPY secret.txt /', 6, /COPY failed: file not found in build context or excluded by \.dockerignore: secret\.txt/],
  ['COPY *.nothing /x/', 6, /:2: COPY failed: no source files were specified/],
  ['COPY --chmod=u+q a.txt /', 3, /:2: COPY invalid chmod parameter: 'u\+q'/],
  ['COPY --chmod=8755 a.txt /', 3, /it should be octal string and between 0 and 07777/],
  ['COPY http://127.0.0.1:9/x /', 3, /:2: source can't be a URL for COPY/],
  ['COPY --exclude=[ a.txt /', 3, /:2: COPY syntax error in pattern/],
  ['COPY *.nothing a.txt /x/', 0, /./],
])('%s exits %i', async (line, code, message) => {
  const dir = await tempDir('copy-err');
  await writeFile(join(dir, 'Dockerfile'), `FROM scratch\n${line}\n`);
  const r = await runExecutor([
    '--context',
    fixture('copy-rules', 'ctx'),
    '--dockerfile',
    join(dir, 'Dockerfile'),
    '--no-push',
  ]);
  expect(r.exitCode, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
});
