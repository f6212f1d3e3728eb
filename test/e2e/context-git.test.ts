/**
 * Issue 14 end to end: `--context git://HOST/REPO.git[#REF[#COMMIT]]` against git's own smart HTTP
 * server (`git http-backend`, test/support/git-server.ts) over HTTPS with a test CA (trusted through
 * SSL_CERT_DIR), behind basic auth. Branch, tag, `refs/…` and commit selection, `--git branch=`,
 * `--context-sub-path`, submodules with `recurse-submodules=true`, `insecure-skip-tls=true`,
 * credentials from GIT_USERNAME/GIT_PASSWORD, GIT_TOKEN or the URL (never printed, never in the
 * image), `GIT_PULL_METHOD=http`, exit 4 for what cannot be fetched, and the same rootfs as `dir://`.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { issueCert, makeCa } from '../support/certs.js';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import { filesContaining, inspectForTest } from '../support/inspect.js';
import { run } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

const USER = 'builder';
const PASSWORD = 'pw-Zq81-secret';
const TOKEN = 'tok-Hx77-secret';

let dir = '';
let certDir = '';
let server: GitServer; // HTTPS, trusted CA, basic auth
let untrusted: GitServer; // HTTPS, a CA nobody trusts, no auth
let plain: GitServer; // HTTP, no auth
const commits = { one: '', two: '', feature: '', pull: '' };

/** Runs git in `cwd` with fixed identities and dates, so commits are the same on every run. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const id = ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'protocol.file.allow=always'];
  const dates = ['GIT_AUTHOR_DATE=@1600000000', 'GIT_COMMITTER_DATE=@1600000000'];
  return (await run('env', [...dates, 'git', '-C', cwd, ...id, ...args])).toString().trim();
}

const DOCKERFILE = 'ARG BASE\nFROM $BASE\nCOPY . /ctx/\n';

/** `app.git`: v1 (tag) → main with a submodule `lib` (../lib.git); `feature`; `refs/pull/7/head`. */
async function makeRepos(root: string): Promise<void> {
  const lib = join(root, 'lib-work');
  await mkdir(lib, { recursive: true });
  await git(root, 'init', '-q', '-b', 'main', lib);
  await writeFile(join(lib, 'lib.txt'), 'from the submodule\n');
  await git(lib, 'add', '.');
  await git(lib, 'commit', '-q', '-m', 'lib');
  await run('git', ['clone', '-q', '--bare', lib, join(root, 'repos', 'lib.git')]);

  const app = join(root, 'app-work');
  await mkdir(join(app, 'svc'), { recursive: true });
  await git(root, 'init', '-q', '-b', 'main', app);
  await writeFile(join(app, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(app, '.dockerignore'), '.git\n');
  // Its own ignore file (empty) lets this Dockerfile see .git: what Kaniko's context holds.
  await writeFile(join(app, 'all.Dockerfile'), 'ARG BASE\nFROM $BASE\nCOPY . /all/\n');
  await writeFile(join(app, 'all.Dockerfile.dockerignore'), '');
  await writeFile(join(app, 'version.txt'), 'one\n');
  await writeFile(join(app, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await writeFile(join(app, 'svc', 'Dockerfile'), 'ARG BASE\nFROM $BASE\nCOPY . /svc/\n');
  await writeFile(join(app, 'svc', 'svc.txt'), 'service\n');
  await git(app, 'add', '.');
  await git(app, 'commit', '-q', '-m', 'one');
  await git(app, 'tag', 'v1');
  commits.one = await git(app, 'rev-parse', 'HEAD');
  await git(app, 'submodule', 'add', '-q', join(root, 'repos', 'lib.git'), 'lib');
  await git(app, 'config', '-f', '.gitmodules', 'submodule.lib.url', '../lib.git');
  await writeFile(join(app, 'version.txt'), 'two\n');
  await git(app, 'add', '.');
  await git(app, 'commit', '-q', '-m', 'two');
  commits.two = await git(app, 'rev-parse', 'HEAD');
  await git(app, 'checkout', '-q', '-b', 'feature', 'v1');
  await writeFile(join(app, 'version.txt'), 'feature\n');
  await git(app, 'commit', '-q', '-am', 'feature');
  commits.feature = await git(app, 'rev-parse', 'HEAD');
  await git(app, 'checkout', '-q', '--detach', 'v1');
  await writeFile(join(app, 'version.txt'), 'pull request\n');
  await git(app, 'commit', '-q', '-am', 'pr');
  commits.pull = await git(app, 'rev-parse', 'HEAD');
  await git(app, 'checkout', '-q', 'main');
  const bare = join(root, 'repos', 'app.git');
  await run('git', ['clone', '-q', '--bare', app, bare]);
  await git(bare, 'update-ref', 'refs/pull/7/head', commits.pull);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-git-'));
  await makeRepos(dir);
  const ca = await makeCa(dir, 'git-ca');
  const other = await makeCa(dir, 'other-ca');
  certDir = join(dir, 'certs');
  await mkdir(certDir);
  await writeFile(join(certDir, 'git-ca.crt'), ca.certPem);
  const cert = await issueCert(ca, dir, 'git', 'server');
  const stranger = await issueCert(other, dir, 'stranger', 'server');
  const root = join(dir, 'repos');
  server = await startGitServer({
    root,
    tls: { cert: cert.certPem, key: cert.keyPem },
    users: { [USER]: PASSWORD, [TOKEN]: '' },
  });
  untrusted = await startGitServer({ root, tls: { cert: stranger.certPem, key: stranger.keyPem } });
  plain = await startGitServer({ root });
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.stop(), untrusted?.stop(), plain?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CREDS = { GIT_USERNAME: USER, GIT_PASSWORD: PASSWORD };

/** Builds `context` and pushes it as `name`; fails the test, with Kiln's stderr, unless it exits 0. */
async function build(name: string, context: string, extra: string[] = [], vars: Record<string, string> = CREDS) {
  const dest = `${env.reg.host}/git/${name}:1`;
  const r = await exec(context, ['--destination', dest, ...extra], vars);
  expect(r.exitCode, r.stderr).toBe(0);
  return { result: r, image: await inspectForTest(dest) };
}

function exec(context: string, extra: string[], vars: Record<string, string> = CREDS): Promise<ExecutorResult> {
  return runExecutor(['--context', context, '--build-arg', `BASE=${env.base.ref}`, ...extra], {
    env: { SSL_CERT_DIR: certDir, ...vars },
  });
}

/** Every path of a rootfs with its type, mode, owner, size and content digest (not its mtime). */
async function listing(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { recursive: true })) {
    const p = join(root, e);
    const s = await lstat(p);
    const what = s.isFile()
      ? createHash('sha256')
          .update(await readFile(p))
          .digest('hex')
      : s.isSymbolicLink()
        ? `-> ${await readlink(p)}`
        : s.isDirectory()
          ? 'dir'
          : 'other';
    out.push(`${relative(root, p)} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${what}`);
  }
  return out.sort();
}

describe('git:// context over HTTPS with a test CA, behind basic auth', () => {
  test("the remote's HEAD: the same rootfs as the same files from dir://, the password nowhere", async () => {
    const { result, image } = await build('head', `git://${server.host}/app.git`);
    expect(await image.readFile('/ctx/version.txt')).toBe('two\n');
    expect((await image.stat('/ctx/run.sh')).mode).toBe(0o755);
    // Kaniko's default: submodules are not fetched, their directory is empty.
    expect(await readdir(join(image.rootfsDir, 'ctx', 'lib'))).toEqual([]);
    expect(await image.exists('/ctx/.git')).toBe(false); // .dockerignore
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);

    const local = await tempDir('git-dir');
    await run('git', ['clone', '-q', join(dir, 'repos', 'app.git'), local]);
    const fromDir = await build('head-dir', `dir://${local}`);
    expect(await listing(image.rootfsDir)).toEqual(await listing(fromDir.image.rootfsDir));
  });

  test.each([
    ['a tag', '#v1', 'one\n'],
    ['a refs/tags/ name', '#refs/tags/v1', 'one\n'],
    ['a branch', '#feature', 'feature\n'],
    ['a refs/heads/ name', '#refs/heads/feature', 'feature\n'],
    ['a pull request ref', '#refs/pull/7/head', 'pull request\n'],
  ])('%s (%s)', async (_what, ref, version) => {
    const { image } = await build('ref', `git://${server.host}/app.git${ref}`);
    expect(await image.readFile('/ctx/version.txt')).toBe(version);
  });

  test('a commit: #REF#COMMIT (short id) and #COMMIT (full id)', async () => {
    const short = await build('commit', `git://${server.host}/app.git#main#${commits.one.slice(0, 10)}`);
    expect(await short.image.readFile('/ctx/version.txt')).toBe('one\n');
    const full = await build('commit', `git://${server.host}/app.git#${commits.feature}`);
    expect(await full.image.readFile('/ctx/version.txt')).toBe('feature\n');
  });

  test('--git branch=NAME when the URL names no ref', async () => {
    const { image } = await build('branch', `git://${server.host}/app.git`, [
      '--git',
      'branch=feature,single-branch=true',
    ]);
    expect(await image.readFile('/ctx/version.txt')).toBe('feature\n');
  });

  test('.git stays in the context, as Kaniko clones it, holding no credential', async () => {
    const url = `git://${USER}:${PASSWORD}@${server.host}/app.git#v1`;
    const { result, image } = await build('dotgit', url, ['--dockerfile', 'all.Dockerfile'], {});
    expect((await image.readFile('/all/.git/HEAD')).trim()).toBe(commits.one);
    expect(await filesContaining(image.rootfsDir, PASSWORD)).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    expect(result.stderr).toContain(`git://${USER}:***@${server.host}/app.git#v1`);
  });

  test('GIT_TOKEN', async () => {
    const { image } = await build('token', `git://${server.host}/app.git#v1`, [], { GIT_TOKEN: TOKEN });
    expect(await image.readFile('/ctx/version.txt')).toBe('one\n');
  });

  test('--context-sub-path: the Dockerfile and files of a sub-directory', async () => {
    const { image } = await build('sub', `git://${server.host}/app.git`, ['--context-sub-path', 'svc']);
    expect(await image.readFile('/svc/svc.txt')).toBe('service\n');
    expect(await image.exists('/ctx')).toBe(false);
  });

  test('submodules with --git recurse-submodules=true', async () => {
    const { image } = await build('submodules', `git://${server.host}/app.git`, ['--git', 'recurse-submodules=true']);
    expect(await image.readFile('/ctx/lib/lib.txt')).toBe('from the submodule\n');
  });
});

describe('git:// contexts that cannot be fetched exit 4 with one line naming the context', () => {
  test('a wrong password: the password in no output', async () => {
    const wrong = 'wrong-Pq92-secret';
    const r = await exec(`git://${server.host}/app.git`, ['--no-push'], { GIT_USERNAME: USER, GIT_PASSWORD: wrong });
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(`^error: cannot fetch the context git://${server.host}/app.git: authentication failed`, 'm'),
    );
    expect(r.stdout + r.stderr).not.toContain(wrong);
    const inUrl = await exec(`git://${USER}:${wrong}@${server.host}/app.git`, ['--no-push'], {});
    expect(inUrl.exitCode, inUrl.stderr).toBe(4);
    expect(inUrl.stdout + inUrl.stderr).not.toContain(wrong);
    expect(inUrl.stderr).toContain(`git://${USER}:***@${server.host}/app.git`);
  });

  test.each([
    ['a missing repository', 'nope.git', /repository not found/],
    ['a missing ref', 'app.git#no-such-branch', /ref no-such-branch not found/],
    ['a missing commit', 'app.git#main#0123456789abcdef', /commit 0123456789abcdef in main not found/],
  ])('%s', async (_what, path, message) => {
    const r = await exec(`git://${server.host}/${path}`, ['--no-push']);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^error: cannot fetch the context git://${server.host}/${path}: `, 'm'));
    expect(r.stderr).toMatch(message);
  });

  test('no git on this host: exit 2, saying so', async () => {
    const r = await runExecutor(['--context', `git://${server.host}/app.git`, '--no-push'], {
      env: { PATH: await tempDir('git-no-path') },
    });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: --context git:\/\/.*: the `git` program is not on PATH/m);
    expect(r.stderr).toMatch(/^hint: install git/m);
  });

  test('an unreachable host', async () => {
    const r = await exec('git://127.0.0.1:1/app.git', ['--no-push']);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /^error: cannot fetch the context git:\/\/127\.0\.0\.1:1\/app\.git: cannot reach 127\.0\.0\.1:1/m,
    );
  });
});

describe('TLS verification and plain HTTP', () => {
  test('an untrusted certificate is refused, and accepted with --git insecure-skip-tls=true', async () => {
    const context = `git://${untrusted.host}/app.git`;
    const refused = await exec(context, ['--no-push'], {});
    expect(refused.exitCode, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(
      /^error: cannot fetch the context .*: TLS: the certificate of 127\.0\.0\.1:\d+ is not trusted/m,
    );
    expect(refused.stderr).toContain('insecure-skip-tls=true');
    const { image } = await build('insecure', context, ['--git', 'insecure-skip-tls=true'], {});
    expect(await image.readFile('/ctx/version.txt')).toBe('two\n');
  });

  test('--registry-certificate HOST=CA is trusted for a git host of that name', async () => {
    const ca = join(certDir, 'git-ca.crt');
    const r = await runExecutor(
      ['--context', `git://${server.host}/app.git#v1`, '--build-arg', `BASE=${env.base.ref}`, '--no-push'],
      { env: CREDS },
    );
    expect(r.exitCode, r.stderr).toBe(4);
    const trusted = await runExecutor(
      [
        '--context',
        `git://${server.host}/app.git#v1`,
        '--build-arg',
        `BASE=${env.base.ref}`,
        '--no-push',
        '--registry-certificate',
        `${server.host}=${ca}`,
      ],
      { env: CREDS },
    );
    expect(trusted.exitCode, trusted.stderr).toBe(0);
  });

  test('a server that never completes the TLS handshake: exit 4 after --network-timeout', async () => {
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const started = Date.now();
    const r = await exec(`git://${host}/app.git`, ['--no-push', '--network-timeout', '2s'], {});
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^error: cannot fetch the context git://${host}/app.git: timed out`, 'm'));
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('GIT_PULL_METHOD=http fetches over plain HTTP', async () => {
    const { image } = await build('http', `git://${plain.host}/app.git#v1`, [], { GIT_PULL_METHOD: 'http' });
    expect(await image.readFile('/ctx/version.txt')).toBe('one\n');
  });
});
