/**
 * ADD from remote sources end to end (fixtures/add-remote): files downloaded over HTTP from a
 * node:http server on 127.0.0.1 (mode 0600, mtime from Last-Modified, names from the URL,
 * redirects, `--checksum`, `--unpack=true`) and git repositories served the way a plain web
 * server serves them (git's "dumb" HTTP protocol) with `#ref:subdir` and `--keep-git-dir`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { issueCert, makeCa } from '../support/certs.js';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { run } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

const TOOL = '#!/bin/sh\necho tool\n';
const TOOL_SUM = `sha256:${createHash('sha256').update(TOOL).digest('hex')}`;
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

let server: Server | undefined;
let srv = '';
let archive: Buffer = Buffer.alloc(0);
let gitRoot = '';
let commits = { v1: '', main: '' };

/** A repository with two commits (tag v1, then main), cloned bare for a static web server. */
async function makeRepo(dir: string): Promise<void> {
  const repo = join(dir, 'work');
  await mkdir(join(repo, 'sub'), { recursive: true });
  const git = (args: string[], date: number): Promise<Buffer> =>
    run('env', [
      `GIT_AUTHOR_DATE=@${date}`,
      `GIT_COMMITTER_DATE=@${date}`,
      'git',
      '-C',
      repo,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      ...args,
    ]);
  await run('git', ['init', '-q', '-b', 'main', repo]);
  await writeFile(join(repo, 'README'), 'one\n');
  await writeFile(join(repo, 'sub', 'file.txt'), 'file\n');
  await writeFile(join(repo, 'sub', 'bin.sh'), '#!/bin/sh\n');
  await chmod(join(repo, 'sub', 'bin.sh'), 0o755);
  await git(['add', '.'], 1_600_000_000);
  await git(['commit', '-q', '-m', 'one'], 1_600_000_000);
  await git(['tag', 'v1'], 1_600_000_000);
  await writeFile(join(repo, 'README'), 'two\n');
  await git(['commit', '-q', '-am', 'two'], 1_700_000_000);
  commits = {
    v1: (await run('git', ['-C', repo, 'rev-parse', 'v1'])).toString().trim(),
    main: (await run('git', ['-C', repo, 'rev-parse', 'main'])).toString().trim(),
  };
  await run('git', ['clone', '-q', '--bare', repo, join(dir, 'repo.git')]);
  await run('git', ['-C', join(dir, 'repo.git'), 'update-server-info']);
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-add-remote-'));
  gitRoot = dir;
  await makeRepo(dir);
  const payload = join(dir, 'payload');
  await mkdir(payload);
  await writeFile(join(payload, 'hello.txt'), 'hello\n');
  archive = await run('tar', ['-C', dir, '--gzip', '-cf', '-', 'payload']);
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/files/tool.sh') res.writeHead(200, { 'last-modified': LAST_MODIFIED }).end(TOOL);
    else if (path === '/files/nodate.txt') res.end('no date\n');
    else if (path === '/redirect') res.writeHead(302, { location: '/files/tool.sh' }).end();
    else if (path.startsWith('/chain/')) {
      // /chain/N answers with N redirects before the file.
      const n = Number(path.slice('/chain/'.length));
      res.writeHead(n > 0 ? 302 : 200, n > 0 ? { location: `/chain/${n - 1}` } : {}).end(n > 0 ? undefined : TOOL);
    } else if (path === '/archive.tar.gz') res.end(archive);
    else if (path.startsWith('/git/')) {
      const file = resolve(gitRoot, path.slice('/git/'.length));
      if (!file.startsWith(gitRoot + sep)) return void res.writeHead(403).end();
      stat(file).then(
        (st) => (st.isFile() ? createReadStream(file).pipe(res) : res.writeHead(404).end()),
        () => res.writeHead(404).end(),
      );
    } else res.writeHead(404).end('not found\n');
  });
  await new Promise<void>((ok) => server?.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  srv = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await new Promise((ok) => server?.close(ok));
  await rm(gitRoot, { recursive: true, force: true });
});

test('ADD downloads URLs and checks out git refs with Docker’s names, modes, owners and times', async () => {
  const dest = `${env.reg.host}/e2e/add-remote:1`;
  const args = [
    '--build-arg',
    `BASE=${env.base.ref}`,
    '--build-arg',
    `SRV=${srv}`,
    '--build-arg',
    `SUM=${TOOL_SUM}`,
    '--build-arg',
    `COMMIT=${commits.main}`,
  ];
  const r = await runExecutor([
    '--context',
    await tempDir('add-remote-ctx'),
    '--dockerfile',
    fixture('add-remote', 'Dockerfile'),
    '--destination',
    dest,
    '--insecure',
    '--insecure-pull',
    ...args,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ registry: dest });
  onTestFinished(() => image.cleanup());
  const mtime = async (p: string): Promise<number> => (await stat(join(image.rootfsDir, p))).mtimeMs;

  expect(await image.readFile('/dl/tool.sh')).toBe(TOOL);
  expect(await image.stat('/dl/tool.sh')).toMatchObject({ mode: 0o600, uid: 0, gid: 0 });
  expect(await mtime('dl/tool.sh')).toBe(Date.parse(LAST_MODIFIED));
  expect(await image.readFile('/dl/renamed.txt')).toBe('no date\n');
  expect(await mtime('dl/renamed.txt')).toBe(0);
  expect(await image.stat('/usr/local/bin/tool')).toMatchObject({ mode: 0o755, uid: 1000, gid: 1000 });
  expect(await image.readFile('/verified')).toBe(TOOL);
  expect(await image.stat('/remote/archive.tar.gz')).toMatchObject({ type: 'file', size: archive.length });
  expect(await image.readFile('/unpacked/payload/hello.txt')).toBe('hello\n');

  expect(await image.readFile('/src/README')).toBe('two\n');
  expect(await image.exists('/src/.git')).toBe(false);
  expect(await image.stat('/src/sub/bin.sh')).toMatchObject({ mode: 0o755, uid: 0 });
  expect(await image.stat('/src/sub/file.txt')).toMatchObject({ mode: 0o644 });
  expect(await mtime('src/README')).toBe(1_700_000_000_000);
  expect(await image.readFile('/sub/file.txt')).toBe('file\n');
  expect(await image.exists('/sub/README')).toBe(false);
  expect(await mtime('sub/file.txt')).toBe(1_600_000_000_000);
  expect(await image.stat('/kept/.git')).toMatchObject({ type: 'dir' });
  expect((await readFile(join(image.rootfsDir, 'kept/.git/HEAD'), 'utf8')).trim()).toBe(commits.main);
  expect(await image.stat('/owned/file.txt')).toMatchObject({ uid: 1000, gid: 1000 });
});

test.each([
  [
    'ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 SRV/files/tool.sh /x',
    5,
    /:2: ADD .*tool\.sh: checksum mismatch: expected sha256:0+, got sha256:/,
  ],
  ['ADD SRV/missing /x', 6, /:2: ADD failed: GET .*\/missing: 404/],
  ['ADD SRV/chain/11 /x', 6, /:2: ADD failed: GET .*\/chain\/11: more than 10 redirects/],
  [
    'ADD --checksum=sha256:abc SRV/files/tool.sh /x',
    3,
    /:2: ADD --checksum=sha256:abc: invalid checksum digest format/,
  ],
  [`ADD --checksum=${TOOL_SUM} a.txt /x`, 3, /:2: checksum requires HTTP\(S\) or Git sources/],
  [
    'ADD --checksum=deadbeef SRV/git/repo.git /x/',
    5,
    /:2: ADD .*repo\.git: checksum mismatch: expected commit deadbeef/,
  ],
  ['ADD SRV/git/repo.git#no-such-ref /x/', 6, /:2: ADD failed: fetching .*repo\.git#no-such-ref/],
  ['ADD SRV/git/repo.git#--upload-pack=true /x/', 6, /:2: ADD failed: .*invalid git ref "--upload-pack=true"/],
])('%s exits %i', async (line, code, message) => {
  const dir = await tempDir('add-remote-err');
  await writeFile(join(dir, 'Dockerfile'), `FROM scratch\n${line.replaceAll('SRV', srv)}\n`);
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

/** A password and a pre-signed query, as a URL to private storage carries them. */
const PASSWORD = 'Url-Passw0rd-7';
const SIGNATURE = 'a1b2c3d4e5f6Signature';
const secretUrl = (origin: string, path: string): string =>
  origin.replace('//', `//bob:${PASSWORD}@`) + `${path}?X-Amz-Signature=${SIGNATURE}&token=Tok3n-Value`;

async function buildWith(
  line: string,
  extra: string[] = [],
  env?: Record<string, string>,
): Promise<Awaited<ReturnType<typeof runExecutor>>> {
  const dir = await tempDir('add-remote-url');
  await writeFile(join(dir, 'Dockerfile'), `FROM scratch\n${line}\n`);
  return runExecutor(
    ['--context', fixture('copy-rules', 'ctx'), '--dockerfile', join(dir, 'Dockerfile'), '--no-push', ...extra],
    { timeoutMs: 60_000, ...(env ? { env } : {}) },
  );
}

test('a URL with a password and a signed query fails (404) without either in the output', async () => {
  const r = await buildWith(`ADD ${secretUrl(srv, '/missing')} /x`);
  expect(r.exitCode, r.stderr).toBe(6);
  expect(r.stderr).toMatch(
    /:2: ADD failed: GET http:\/\/127\.0\.0\.1:\d+\/missing\?X-Amz-Signature=\*\*\*&token=\*\*\*: 404/,
  );
  for (const secret of [PASSWORD, SIGNATURE, 'Tok3n-Value']) expect(r.stdout + r.stderr).not.toContain(secret);
});

test('a URL with a password and a signed query whose server stalls fails (exit 6) without either in the output', async () => {
  const sockets: Socket[] = [];
  const stalled = createServer(() => undefined); // reads the request, never answers
  stalled.on('connection', (s: Socket) => sockets.push(s));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((ok) => stalled.close(ok));
  });
  await new Promise<void>((ok) => stalled.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
  const r = await buildWith(`ADD ${secretUrl(origin, '/file')} /x`, ['--network-timeout', '1s']);
  expect(r.exitCode, r.stderr).toBe(6);
  expect(r.stderr).toContain(
    `ADD failed: GET ${origin}/file?X-Amz-Signature=***&token=***: no response within 1 s (4 attempts)`,
  );
  for (const secret of [PASSWORD, SIGNATURE, 'Tok3n-Value']) expect(r.stdout + r.stderr).not.toContain(secret);
});

test('ADD follows 10 redirects; over HTTPS (its CA trusted through NODE_EXTRA_CA_CERTS or SSL_CERT_DIR), a redirect down to plain HTTP is refused (exit 6)', async () => {
  const pki = await tempDir('add-remote-pki');
  const ca = await makeCa(pki);
  const cert = await issueCert(ca, pki, 'server', 'server');
  const https = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/up')
      res.writeHead(302, { location: '/up2' }).end(); // stays on HTTPS
    else if (path === '/up2') res.writeHead(200).end(TOOL);
    else if (path === '/down') res.writeHead(302, { location: `${srv}/files/tool.sh` }).end();
    else res.writeHead(404).end();
  });
  onTestFinished(() => new Promise<void>((ok) => https.close(() => ok())));
  await new Promise<void>((ok) => https.listen(0, '127.0.0.1', ok));
  const origin = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  const trust = { NODE_EXTRA_CA_CERTS: ca.cert };

  expect((await buildWith(`ADD ${srv}/chain/10 /x`)).exitCode).toBe(0);
  const up = await buildWith(`ADD ${origin}/up /x`, [], trust);
  expect(up.exitCode, up.stderr).toBe(0);
  // The CA as a file in an SSL_CERT_DIR directory (Kaniko's image: /kaniko/ssl/certs) is trusted too.
  const certs = await tempDir('add-remote-certs');
  await writeFile(join(certs, 'my-server-ca.crt'), ca.certPem);
  const viaDir = await buildWith(`ADD ${origin}/up /x`, [], { SSL_CERT_DIR: certs });
  expect(viaDir.exitCode, viaDir.stderr).toBe(0);
  expect((await buildWith(`ADD ${origin}/up /x`)).exitCode).toBe(6);
  const down = await buildWith(`ADD ${origin}/down /x`, [], trust);
  expect(down.exitCode, down.stderr).toBe(6);
  expect(down.stderr).toContain(
    `:2: ADD failed: GET ${origin}/down: refused a redirect from HTTPS to plain HTTP (${srv}/files/tool.sh)`,
  );
});
