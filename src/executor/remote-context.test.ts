/**
 * Tarball contexts fetched into the build (issue 14): `tar://PATH`, `tar://stdin` and an http(s)
 * URL, unpacked as they stream; a hostile archive is refused with exit 5 and writes nothing
 * outside the context directory; a context that cannot be fetched is one line and exit 4.
 */
import { createServer, type Server } from 'node:http';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, expect, test } from 'vitest';
import { rawTar, treeFingerprint } from '../../test/support/hostile-tars.js';
import { parseBuildOptions } from '../config/options.js';
import { parseContextSource } from '../config/context-spec.js';
import { BuildError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { BuildEnv } from './build-env.js';
import { openContext, type OpenedContext } from './remote-context.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-remote-context-'));
  dirs.push(dir);
  return dir;
}

function buildEnv(cwd: string, stdin?: Readable): BuildEnv {
  return {
    options: parseBuildOptions({ push: false }, {}),
    logger: silentLogger,
    now: () => new Date(0),
    env: { PATH: process.env.PATH },
    cwd,
    homeDir: '/root',
    tmpDir: cwd,
    signal: new AbortController().signal,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    stepOutput: () => {},
    version: 'test',
    ...(stdin ? { stdin } : {}),
  };
}

/** Opens `context` in a fresh directory: `base` is where the build makes its context directory. */
async function open(
  context: string,
  opts: { stdin?: Readable; subPath?: string } = {},
): Promise<{ opened: OpenedContext; base: string; cwd: string }> {
  const cwd = await tempDir();
  const base = join(cwd, 'scratch');
  const source = parseContextSource({ context, ...(opts.subPath ? { contextSubPath: opts.subPath } : {}) });
  const opened = await openContext(buildEnv(cwd, opts.stdin), source, base);
  return { opened, base, cwd };
}

/** The error `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<BuildError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BuildError)) throw new Error(`expected a BuildError, got ${String(err)}`);
  return err;
}

const CONTEXT = rawTar([
  { name: 'Dockerfile', data: 'FROM scratch\nCOPY . /\n' },
  { name: 'app/', type: '5', mode: 0o750 },
  { name: 'app/run.sh', data: '#!/bin/sh\n', mode: 0o755 },
  { name: 'app/host-etc', type: '2', linkname: '/etc' },
]);

test('tar://PATH unpacks a plain and a gzipped tar into the context directory, which cleanup removes', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'ctx.tar'), CONTEXT);
  await writeFile(join(dir, 'ctx.tgz.bin'), gzipSync(CONTEXT)); // sniffed from the bytes, not the name
  for (const file of ['ctx.tar', 'ctx.tgz.bin']) {
    const { opened, base } = await open(`tar://${join(dir, file)}`);
    expect(opened.dir.startsWith(join(base, 'kiln-context-')), opened.dir).toBe(true);
    expect(await readFile(join(opened.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\nCOPY . /\n');
    expect((await lstat(join(opened.dir, 'app', 'run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(opened.dir, 'app'))).mode & 0o7777).toBe(0o750);
    // A symlink out of the context is content like any other, as long as nothing is written through it.
    expect(await readlink(join(opened.dir, 'app', 'host-etc'))).toBe('/etc');
    await opened.cleanup();
    expect(await readdir(base)).toEqual([]);
  }
});

test('--context-sub-path is the directory inside the fetched context', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'ctx.tar'), CONTEXT);
  const { opened, base } = await open(`tar://${join(dir, 'ctx.tar')}`, { subPath: 'app/' });
  const [made = ''] = await readdir(base);
  expect(opened.dir).toBe(join(base, made, 'app'));
  expect(await readdir(opened.dir)).toEqual(['host-etc', 'run.sh']);
  await opened.cleanup();
});

test('tar://stdin reads standard input, gzipped or plain', async () => {
  for (const bytes of [gzipSync(CONTEXT), CONTEXT]) {
    const { opened } = await open('tar://stdin', { stdin: Readable.from([bytes]) });
    expect(await readFile(join(opened.dir, 'app', 'run.sh'), 'utf8')).toBe('#!/bin/sh\n');
    await opened.cleanup();
  }
});

test.each([
  ['an entry named ../escape', [{ name: '../escape', data: 'x' }], /unsafe archive entry "\.\.\/escape"/],
  ['an absolute entry name', [{ name: '/abs', data: 'x' }], /unsafe archive entry "\/abs": its name is absolute/],
  [
    'a write through a symlink to an absolute path',
    [
      { name: 'link', type: '2', linkname: '@SENTINEL@' },
      { name: 'link/x', data: 'x' },
    ],
    /unsafe archive entry "link\/x".*points outside/,
  ],
  [
    'a write through a symlink climbing out',
    [
      { name: 'up', type: '2', linkname: '../../../../../../../../..@SENTINEL@' },
      { name: 'up/x', data: 'x' },
    ],
    /unsafe archive entry "up\/x".*points outside/,
  ],
  [
    'a hardlink through an escaping symlink',
    [
      { name: 'link', type: '2', linkname: '@SENTINEL@' },
      { name: 'hard', type: '1', linkname: 'link/victim' },
    ],
    /unsafe archive entry "hard".*points outside/,
  ],
  ['a hardlink climbing out', [{ name: 'hard', type: '1', linkname: '../victim' }], /unsafe archive entry "hard"/],
])('a context archive with %s exits 5 naming the context, and nothing outside changes', async (_, entries, why) => {
  const sentinel = await tempDir();
  await mkdir(join(sentinel, 'inside'));
  await writeFile(join(sentinel, 'victim'), 'victim\n');
  const dir = await tempDir();
  const tar = join(dir, 'hostile.tar.gz');
  const resolved = entries.map((e) =>
    'linkname' in e && e.linkname !== undefined ? { ...e, linkname: e.linkname.replace('@SENTINEL@', sentinel) } : e,
  );
  await writeFile(tar, gzipSync(rawTar(resolved)));
  const before = await treeFingerprint(sentinel);
  const around = await treeFingerprint(dir);
  const cwd = await tempDir();
  const base = join(cwd, 'scratch');
  const err = await failure(openContext(buildEnv(cwd), parseContextSource({ context: `tar://${tar}` }), base));
  expect(err.exitCode, err.message).toBe(5);
  expect(err.message).toMatch(new RegExp(`^context tar://${tar}: `));
  expect(err.message).toMatch(why);
  expect(await treeFingerprint(sentinel)).toBe(before);
  expect(await treeFingerprint(dir)).toBe(around);
  expect(await readdir(cwd)).toEqual(['scratch']);
  expect(await readdir(base)).toEqual([]); // the partial context is gone
});

test('a corrupt or truncated archive exits 5; a missing file or directory exits 4, each in one line naming the context', async () => {
  const dir = await tempDir();
  const gz = gzipSync(CONTEXT);
  await writeFile(join(dir, 'truncated.tar.gz'), gz.subarray(0, gz.length - 40));
  await writeFile(join(dir, 'garbage.tar'), 'this is not a tar archive, not even close to one '.repeat(20));
  for (const name of ['truncated.tar.gz', 'garbage.tar']) {
    const err = await failure(open(`tar://${join(dir, name)}`));
    expect(err.exitCode, err.message).toBe(5);
    expect(err.message).toMatch(new RegExp(`^context tar://${join(dir, name)}: not a valid`));
  }
  const missing = await failure(open(`tar://${join(dir, 'nope.tar')}`));
  expect(missing.exitCode).toBe(4);
  expect(missing.message).toBe(
    `context tar://${join(dir, 'nope.tar')}: cannot read ${join(dir, 'nope.tar')}: no such file`,
  );
  const directory = await failure(open(`tar://${dir}`));
  expect(directory.exitCode).toBe(4);
  expect(directory.message).toMatch(/is a directory, not a tarball/);
});

/** A loopback HTTP server answering `handler`; resolves to its origin. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return `http://127.0.0.1:${addr.port}`;
}

test('an http URL is downloaded and unpacked as it streams; a 404 or 403 exits 4 naming the redacted URL', async () => {
  const gz = gzipSync(CONTEXT);
  const seen: string[] = [];
  const origin = await serve((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    if (req.url?.startsWith('/ctx.tar.gz')) {
      res.writeHead(200, { 'content-type': 'application/gzip' });
      // In pieces, to be read as they come.
      res.write(gz.subarray(0, 100));
      setTimeout(() => res.end(gz.subarray(100)), 20);
      return;
    }
    res.writeHead(req.url?.startsWith('/denied') ? 403 : 404).end();
  });
  const { opened } = await open(`${origin}/ctx.tar.gz?X-Amz-Signature=s3cr3t`);
  expect(await readFile(join(opened.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\nCOPY . /\n');
  await opened.cleanup();

  const withSecrets = `${origin.replace('//', '//me:hunter2@')}/missing.tar.gz?sig=s3cr3t`;
  const notFound = await failure(open(withSecrets));
  expect(notFound.exitCode).toBe(4);
  expect(notFound.message).toMatch(
    /^context http:\/\/me:\*\*\*@127\.0\.0\.1:\d+\/missing\.tar\.gz\?sig=\*\*\*: .*404 Not Found$/,
  );
  expect(notFound.message).not.toMatch(/hunter2|s3cr3t/);
  const denied = await failure(open(`${origin}/denied.tar.gz`));
  expect(denied.exitCode).toBe(4);
  expect(denied.message).toMatch(/403 Forbidden$/);
  expect(seen.some((s) => s.includes('Basic '))).toBe(true);
});

test('an unreachable host exits 4 naming the context; a corrupt download exits 5', async () => {
  const origin = await serve((_req, res) => res.writeHead(200).end('garbage, not a tarball at all '.repeat(40)));
  const corrupt = await failure(open(`${origin}/ctx.tar.gz`));
  expect(corrupt.exitCode, corrupt.message).toBe(5);
  const closed = `http://127.0.0.1:${new URL(origin).port}`;
  await new Promise((r) => servers.splice(0)[0]?.close(r));
  const unreachable = await failure(open(`${closed}/ctx.tar.gz`));
  expect(unreachable.exitCode).toBe(4);
  expect(unreachable.message).toMatch(/^context http:\/\/127\.0\.0\.1:\d+\/ctx\.tar\.gz: .*connection refused/);
});

/** A stdin that sends `first`, then `rest` only when `release()` is called. */
function heldStdin(first: Buffer, rest: Buffer): { stdin: Readable; release: () => void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  async function* bytes(): AsyncGenerator<Buffer> {
    yield first;
    await released;
    yield rest;
  }
  return { stdin: Readable.from(bytes()), release };
}

test('with proceed {file}, openContext returns once that file is written and `ready` tells when the rest is', async () => {
  const tar = rawTar([
    { name: 'Dockerfile', data: 'FROM scratch\n' },
    { name: 'big.txt', data: 'x'.repeat(4096) },
  ]);
  const { stdin, release } = heldStdin(tar.subarray(0, 1024), tar.subarray(1024));
  const cwd = await tempDir();
  const opened = await openContext(
    buildEnv(cwd, stdin),
    parseContextSource({ context: 'tar://stdin' }),
    join(cwd, 'scratch'),
    { file: 'Dockerfile' },
  );
  expect(await readFile(join(opened.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
  let whole = false;
  void opened.ready.then(() => (whole = true));
  await new Promise((r) => setTimeout(r, 50));
  expect(whole).toBe(false);
  release();
  await opened.ready;
  expect((await readFile(join(opened.dir, 'big.txt'), 'utf8')).length).toBe(4096);
  await opened.cleanup();
});

test('a hostile entry after the Dockerfile rejects `ready` with exit 5; cleanup stops a fetch still running', async () => {
  const hostile = rawTar([
    { name: 'Dockerfile', data: 'FROM scratch\n' },
    { name: 'pad', data: 'x'.repeat(2048) },
    { name: '../escape', data: 'x' },
  ]);
  const a = heldStdin(hostile.subarray(0, 1024), hostile.subarray(1024));
  const cwd = await tempDir();
  const base = join(cwd, 'scratch');
  const source = parseContextSource({ context: 'tar://stdin' });
  const opened = await openContext(buildEnv(cwd, a.stdin), source, base, { file: 'Dockerfile' });
  a.release();
  const err = await failure(opened.ready);
  expect(err.exitCode).toBe(5);
  expect(err.message).toMatch(/^context tar:\/\/stdin: unsafe archive entry "\.\.\/escape"/);
  await opened.cleanup();
  expect(await readdir(base)).toEqual([]);

  const b = heldStdin(CONTEXT.subarray(0, 1024), CONTEXT.subarray(1024));
  const never = await openContext(buildEnv(cwd, b.stdin), source, base, 'at-once');
  await never.cleanup(); // the held stream is never released: cleanup aborts it
  expect(await readdir(base)).toEqual([]);
});

test('a file named twice, the second time as a hardlink to itself (`tar -c Dockerfile .`), is kept', async () => {
  const dir = await tempDir();
  const tar = join(dir, 'twice.tar');
  await writeFile(
    tar,
    rawTar([
      { name: 'Dockerfile', data: 'FROM scratch\n' },
      { name: './', type: '5' },
      { name: './Dockerfile', type: '1', linkname: 'Dockerfile' },
    ]),
  );
  const { opened } = await open(`tar://${tar}`);
  expect(await readFile(join(opened.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
  await opened.cleanup();
});

test('an http download broken midway is fetched again from the start, on an emptied directory', async () => {
  const tar = rawTar([
    { name: 'Dockerfile', data: 'FROM scratch\n' },
    { name: 'first-try-only', data: 'x'.repeat(600) },
    { name: 'big', data: 'y'.repeat(8192) },
  ]);
  const second = rawTar([
    { name: 'Dockerfile', data: 'FROM scratch\n' },
    { name: 'big', data: 'y'.repeat(8192) },
  ]);
  let requests = 0;
  const origin = await serve((_req, res) => {
    if (requests++ === 0) {
      res.writeHead(200, { 'content-length': String(tar.length) });
      res.write(tar.subarray(0, 2048), () => res.destroy()); // a reset after two entries
      return;
    }
    res.writeHead(200).end(second);
  });
  const { opened } = await open(`${origin}/ctx.tar`);
  expect(requests).toBe(2);
  expect((await readdir(opened.dir)).sort()).toEqual(['Dockerfile', 'big']);
  await opened.cleanup();
});

test('an entry the filesystem refuses for what it is (a hardlink to a name never written) exits 5, not 7', async () => {
  const dir = await tempDir();
  const tar = join(dir, 'broken.tar');
  await writeFile(tar, rawTar([{ name: 'hard', type: '1', linkname: 'never-written' }]));
  const err = await failure(open(`tar://${tar}`));
  expect(err.exitCode, err.message).toBe(5);
  expect(err.message).toMatch(/^context tar:\/\/.*: linking \/hard to \/never-written: /);
});
