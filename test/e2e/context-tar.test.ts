/**
 * Tarball build contexts end to end (issue 14): `tar://` with a `.tar.gz` and a plain `.tar`,
 * `tar://stdin` piped in, and an http URL served by a loopback server here, each building the
 * same image as `dir://` of the same files; `--context-sub-path` inside a fetched context; a
 * hostile context archive exits 5 and changes nothing outside the context directory; a context
 * that cannot be fetched exits 4 naming it.
 *
 * The archives are made from the context directory with the system's tar after every mtime there
 * is set to one whole second, so "the same image" compares everything `treeFingerprint` sees of
 * the copied tree: paths, types, modes, owners, sizes, mtimes, link counts, contents, link targets
 * (all but the mtime of /ctx itself, which the COPY makes at the build's time).
 */
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { rawTar, treeFingerprint } from '../support/hostile-tars.js';
import { inspectImage } from '../support/inspect.js';
import { run } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

const DOCKERFILE = 'ARG BASE\nFROM ${BASE}\nCOPY . /ctx/\nRUN cat /ctx/hello.txt > /seen\n';

/** `<parent>/app`: a context with a Dockerfile, modes, a subdirectory, a symlink and an empty directory. */
async function makeContext(): Promise<{ parent: string; dir: string }> {
  const parent = await tempDir('context-tar');
  const dir = join(parent, 'app');
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'empty'), { mode: 0o700 });
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(dir, 'hello.txt'), 'hello from the context\n');
  await chmod(join(dir, 'hello.txt'), 0o640);
  await writeFile(join(dir, 'bin', 'run'), '#!/bin/sh\necho run\n');
  await chmod(join(dir, 'bin', 'run'), 0o755);
  await symlink('../hello.txt', join(dir, 'bin', 'hello'));
  // Whole seconds, so that every tar format keeps them exactly.
  await run('find', [dir, '-exec', 'touch', '-h', '-d', '@1700000000', '{}', '+']);
  return { parent, dir };
}

/** Builds with `context` (extra args after) and pushes to `tag`; returns the run. */
function build(context: string, tag: string, extra: string[] = [], input?: Buffer): Promise<ExecutorResult> {
  return runExecutor(
    [
      '--context',
      context,
      '--destination',
      `${env.reg.host}/e2e/context-tar:${tag}`,
      '--insecure',
      '--insecure-pull',
      '--build-arg',
      `BASE=${env.base.ref}`,
      ...extra,
    ],
    input === undefined ? {} : { input },
  );
}

/** What the image at `tag` holds under /ctx, and its /seen. */
async function copiedTree(tag: string): Promise<{ tree: string; seen: string }> {
  const image = await inspectImage({ registry: `${env.reg.host}/e2e/context-tar:${tag}` });
  onTestFinished(() => image.cleanup());
  const tree = await treeFingerprint(join(image.rootfsDir, 'ctx'));
  // /ctx itself is made by the COPY, at the build's time: its mtime is the one thing that differs.
  return {
    tree: tree.replace(/^(\. \d+ \d+:\d+ \d+) \d+(\.\d+)? /, '$1 BUILD-TIME '),
    seen: await image.readFile('/seen'),
  };
}

test('tar:// (.tar.gz and .tar), tar://stdin, an http URL and a --context-sub-path build the image dir:// builds', async () => {
  const { parent, dir } = await makeContext();
  const tgz = join(parent, 'ctx.tar.gz');
  const plain = join(parent, 'ctx.tar');
  const nested = join(parent, 'nested.tgz');
  await run('tar', ['-C', dir, '--numeric-owner', '-czf', tgz, '.']);
  await run('tar', ['-C', dir, '--numeric-owner', '-cf', plain, '.']);
  await run('tar', ['-C', parent, '--numeric-owner', '-czf', nested, 'app']);
  const server = createServer((req, res) => {
    if (req.url !== '/ctx.tar.gz') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(tgz).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;

  const reference = await build(`dir://${dir}`, 'dir');
  expect(reference.exitCode, reference.stderr).toBe(0);
  const want = await copiedTree('dir');
  expect(want.seen).toBe('hello from the context\n');
  expect(want.tree).toMatch(/^\.\/bin\/hello 120777 0:0 \d+ \d+ 1 \.\.\/hello\.txt$/m);

  const cases: [string, () => Promise<ExecutorResult>][] = [
    ['tgz', () => build(`tar://${tgz}`, 'tgz')],
    ['plain', () => build(`tar://${plain}`, 'plain')],
    ['stdin', () => readFile(tgz).then((bytes) => build('tar://stdin', 'stdin', [], bytes))],
    ['http', () => build(`http://127.0.0.1:${port}/ctx.tar.gz`, 'http')],
    ['subpath', () => build(`tar://${nested}`, 'subpath', ['--context-sub-path', 'app'])],
  ];
  for (const [tag, go] of cases) {
    const r = await go();
    expect(r.exitCode, `${tag}: ${r.stderr}`).toBe(0);
    expect(await copiedTree(tag), tag).toEqual(want);
  }
}, 300_000);

test('a hostile context archive (../escape, a write through link -> /etc) exits 5 and changes nothing outside', async () => {
  const work = await tempDir('context-hostile');
  const scratch = await tempDir('context-hostile-scratch');
  const victim = `kiln-context-escape-${process.pid}-${Date.now()}`;
  const cases = {
    dotdot: rawTar([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: `../${victim}`, data: 'escaped\n' },
    ]),
    symlink: rawTar([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: 'link', type: '2', linkname: '/etc' },
      { name: `link/${victim}`, data: 'escaped\n' },
    ]),
  };
  const etcBefore = (await readdir('/etc')).sort();
  for (const [name, tar] of Object.entries(cases)) {
    const file = join(work, `${name}.tar`);
    await writeFile(file, tar);
    const before = await treeFingerprint(work);
    const r = await runExecutor(['--context', `tar://${file}`, '--no-push', '--kaniko-dir', scratch]);
    expect(r.exitCode, `${name}: ${r.stderr}`).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`context tar://${file}: unsafe archive entry`));
    // The build went on once the Dockerfile was there (an INFO line may precede): one error line.
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await treeFingerprint(work), name).toBe(before);
    expect(await readdir(scratch), name).toEqual([]);
  }
  expect((await readdir('/etc')).sort()).toEqual(etcBefore);
});

test('a missing tarball or an HTTP 404 exits 4 in one line naming the context', async () => {
  const work = await tempDir('context-missing');
  const missing = await runExecutor(['--context', `tar://${join(work, 'nope.tar.gz')}`, '--no-push']);
  expect(missing.exitCode, missing.stderr).toBe(4);
  expect(missing.stderr.trim()).toMatch(
    new RegExp(`^error: context tar://${work}/nope\\.tar\\.gz: cannot read .*: no such file$`),
  );
  const server = createServer((_req, res) => void res.writeHead(404).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/ctx.tar.gz?token=s3cr3t`;
  const notFound = await runExecutor(['--context', url, '--no-push']);
  expect(notFound.exitCode, notFound.stderr).toBe(4);
  expect(notFound.stderr.trim()).toMatch(
    /^error: context http:\/\/127\.0\.0\.1:\d+\/ctx\.tar\.gz\?token=\*\*\*: .*404 Not Found$/,
  );
  expect(notFound.stderr).not.toMatch(/s3cr3t/);
});

test('a fetched context unpacks while the base image is pulled; COPY waits for all of it', async () => {
  const { dir } = await makeContext();
  const tar = await run('tar', ['-C', dir, '--numeric-owner', '-cf', '-', 'Dockerfile', '.']);
  // The Dockerfile's header and data come first; the rest is held back until the base was asked for.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-tar' });
    res.write(tar.subarray(0, 1024));
    setTimeout(() => res.end(tar.subarray(1024)), 2000);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/ctx.tar`;
  const r = await build(url, 'overlap');
  expect(r.exitCode, r.stderr).toBe(0);
  const pulled = r.stderr.search(/building stage 0 FROM /);
  const fetched = r.stderr.search(/context http:\S+ fetched/);
  expect(pulled, r.stderr).toBeGreaterThanOrEqual(0);
  expect(fetched, r.stderr).toBeGreaterThan(pulled);
  expect((await copiedTree('overlap')).seen).toBe('hello from the context\n');
});

/**
 * A fetched context's last reader links the files it copies instead of creating them again
 * (stage.ts lastContextReader, copy-in.ts takeSources): a RUN that changes them then changes the
 * context's copy too, which must reach no reader. An earlier COPY of the same file, and a COPY
 * of another stage, still get the archive's bytes and mode.
 */
test('a fetched context: only its last reader links files, so RUNs changing them reach no later COPY', async () => {
  const dir = await tempDir('context-take');
  await writeFile(
    join(dir, 'Dockerfile'),
    [
      'ARG BASE',
      'FROM ${BASE} AS other',
      'COPY a.txt /from-other.txt',
      'RUN echo other >> /from-other.txt',
      'FROM ${BASE}',
      'COPY a.txt /x.txt',
      'RUN echo changed >> /x.txt && chmod 600 /x.txt',
      'COPY --from=other /from-other.txt /other.txt',
      'COPY a.txt /y.txt',
      'RUN stat -c "links=%h" /y.txt && echo more >> /y.txt',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'a.txt'), 'orig\n');
  await chmod(join(dir, 'a.txt'), 0o644);
  const single = join(dir, 'single');
  await mkdir(single);
  await writeFile(
    join(single, 'Dockerfile'),
    'ARG BASE\nFROM ${BASE}\nCOPY a.txt /x.txt\nRUN echo changed >> /x.txt && chmod 600 /x.txt\nCOPY a.txt /y.txt\nRUN stat -c "links=%h" /y.txt && echo more >> /y.txt\n',
  );
  await writeFile(join(single, 'a.txt'), 'orig\n');
  await chmod(join(single, 'a.txt'), 0o644);
  for (const [name, from] of [
    ['multi', dir],
    ['single', single],
  ] as const) {
    const tgz = join(await tempDir('context-take-tar'), 'ctx.tar.gz');
    await run('tar', ['-C', from, '--numeric-owner', '--exclude', './single', '-czf', tgz, '.']);
    const r = await build(`tar://${tgz}`, `take-${name}`);
    expect(r.exitCode, `${name}: ${r.stderr}`).toBe(0);
    // One stage: the last COPY took the context's file (two names, one inode); several: copied.
    expect(r.stdout + r.stderr, name).toContain(name === 'single' ? 'links=2' : 'links=1');
    const image = await inspectImage({ registry: `${env.reg.host}/e2e/context-tar:take-${name}` });
    onTestFinished(() => image.cleanup());
    expect(await image.readFile('/x.txt'), name).toBe('orig\nchanged\n');
    expect(await image.readFile('/y.txt'), name).toBe('orig\nmore\n');
    if (name === 'multi') expect(await image.readFile('/other.txt')).toBe('orig\nother\n');
    const modes = await Promise.all(['x.txt', 'y.txt'].map((f) => lstat(join(image.rootfsDir, f))));
    expect(
      modes.map((st) => [st.mode & 0o7777, st.uid, st.gid]),
      name,
    ).toEqual([
      [0o600, 0, 0],
      [0o644, 0, 0],
    ]);
  }
}, 300_000);
