/**
 * Hostile-build corpus, issue 11 findings 3, 4 and 7: Kiln's persistent state (RUN cache mounts)
 * planted by another local user, uids that would wrap to root, and FIFOs or devices where an
 * image file is expected. Each case has a sentinel outside the rootfs that must stay as it was,
 * an exit code, and a time bound (a hang is a failure, never a sleep).
 */
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir, type ExecutorResult } from '../../support/executor.js';
import { rawTar } from '../../support/hostile-tars.js';
import { inspectImage } from '../../support/inspect.js';
import { pushLayers } from '../../support/layer-images.js';
import { useRegistryWithBusybox } from '../../support/suite.js';

const env = useRegistryWithBusybox();
/** Each build is small: anything near this is a hang. */
const BOUND = 30_000;
/** Another local user (the tests run as root). */
const ATTACKER = 1000;

/** A context holding `dockerfile` (lines) and a file `f`. */
async function contextWith(lines: string[]): Promise<string> {
  const ctx = await tempDir('hostile-ctx');
  await writeFile(join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  await writeFile(join(ctx, 'f'), 'context file\n');
  return ctx;
}

async function build(lines: string[], extra: string[] = []): Promise<ExecutorResult> {
  const ctx = await contextWith(lines);
  const r = await runExecutor(
    ['--context', ctx, '--no-push', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`, ...extra],
    { timeoutMs: BOUND },
  );
  expect(r.exitCode, r.stderr).not.toBeNull();
  return r;
}

/** A directory that must stay empty: what a planted symlink or directory points Kiln at. */
async function sentinelDir(): Promise<string> {
  const dir = await tempDir('sentinel');
  await writeFile(join(dir, 'victim'), 'precious\n');
  return dir;
}

const CACHE_RUN = [
  'ARG BASE',
  'FROM ${BASE}',
  'RUN --mount=type=cache,id=k,target=/c,sharing=locked echo planted > /c/x && echo ran-the-step',
];
const cacheHash = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 32);

test.each([
  [
    '<state>/cache is a symlink to a sentinel dir',
    async (state: string, sentinel: string) => {
      await symlink(sentinel, join(state, 'cache'));
      return { path: join(state, 'cache'), why: /symlink/ };
    },
  ],
  [
    '<state>/cache is a directory owned by another user',
    async (state: string, sentinel: string) => {
      await mkdir(join(state, 'cache'));
      await chown(join(state, 'cache'), ATTACKER, ATTACKER);
      await symlink(sentinel, join(state, 'cache', 'run-mounts'));
      return { path: join(state, 'cache'), why: new RegExp(`owned by uid ${ATTACKER}, expected 0`) };
    },
  ],
  [
    '<state>/cache is writable by others',
    async (state: string, sentinel: string) => {
      await mkdir(join(state, 'cache'));
      await chmod(join(state, 'cache'), 0o777);
      await symlink(sentinel, join(state, 'cache', 'run-mounts'));
      return { path: join(state, 'cache'), why: /writable by group or others/ };
    },
  ],
  [
    'a cache mount directory is a symlink to a sentinel dir',
    async (state: string, sentinel: string) => {
      await mkdir(join(state, 'cache', 'run-mounts'), { recursive: true, mode: 0o700 });
      await symlink(sentinel, join(state, 'cache', 'run-mounts', cacheHash('k')));
      return { path: join(state, 'cache', 'run-mounts', cacheHash('k')), why: /symlink/ };
    },
  ],
  [
    'a cache lock file is a symlink to a sentinel file',
    async (state: string, sentinel: string) => {
      await mkdir(join(state, 'cache', 'run-mounts', cacheHash('k')), { recursive: true, mode: 0o700 });
      await symlink(join(sentinel, 'victim'), join(state, 'cache', 'run-mounts', `${cacheHash('k')}.lock`));
      return { path: join(state, 'cache', 'run-mounts', `${cacheHash('k')}.lock`), why: /symlink/ };
    },
  ],
] as const)('refuses a planted cache: %s (exit 7, nothing written through it)', async (_name, plant) => {
  const state = await tempDir('state');
  const sentinel = await sentinelDir();
  const { path, why } = await plant(state, sentinel);
  const r = await build(CACHE_RUN, ['--kaniko-dir', state]);
  expect(r.exitCode, r.stderr).toBe(7);
  expect(r.stderr).toContain(path);
  expect(r.stderr).toMatch(why);
  expect(r.stdout).not.toContain('ran-the-step');
  expect(await readdir(sentinel)).toEqual(['victim']);
  expect(await readFile(join(sentinel, 'victim'), 'utf8')).toBe('precious\n');
});

test('refuses a --kaniko-dir owned by another user before keeping a cache in it (exit 7)', async () => {
  const parent = await tempDir('state-parent');
  const state = join(parent, 'kaniko');
  await mkdir(state, { mode: 0o700 });
  await chown(state, ATTACKER, ATTACKER);
  const r = await build(CACHE_RUN, ['--kaniko-dir', state]);
  expect(r.exitCode, r.stderr).toBe(7);
  expect(r.stderr).toContain(`${state} is owned by uid ${ATTACKER}, expected 0`);
  expect(await readdir(state)).toEqual([]);
});

test('a fresh state directory is made private (0700) and its cache works', async () => {
  const parent = await tempDir('state-parent');
  const state = join(parent, 'fresh');
  const r = await build(CACHE_RUN, ['--kaniko-dir', state]);
  expect(r.exitCode, r.stderr).toBe(0);
  for (const p of [join(state, 'cache'), join(state, 'cache', 'run-mounts')])
    expect(((await lstat(p)).mode & 0o777).toString(8), p).toBe('700');
  const lock = await lstat(join(state, 'cache', 'run-mounts', `${cacheHash('k')}.lock`));
  expect([lock.isFile(), lock.mode & 0o777, lock.uid]).toEqual([true, 0o600, 0]);
});

/** The marker a step prints with its uid: `uid-0` must never appear. */
const ID_RUN = 'RUN echo "uid-$(id -u) gid-$(id -g)"';

test.each([
  [
    'USER 4294967296',
    ['ARG BASE', 'FROM ${BASE}', 'USER 4294967296', ID_RUN],
    3,
    /Dockerfile:3: USER 4294967296: uid 4294967296 is out of range \(0 to 2147483647\)/,
  ],
  [
    'USER 0:4294967296',
    ['ARG BASE', 'FROM ${BASE}', 'USER 0:4294967296', ID_RUN],
    3,
    /Dockerfile:3: USER 0:4294967296: gid 4294967296 is out of range/,
  ],
  [
    'USER 2147483648',
    ['ARG BASE', 'FROM ${BASE}', 'USER 2147483648', ID_RUN],
    3,
    /Dockerfile:3: USER 2147483648: uid 2147483648 is out of range/,
  ],
  [
    'a passwd entry with uid 2^32, selected by name',
    ['ARG BASE', 'FROM ${BASE}', "RUN echo 'evil:x:4294967296:0:evil:/:/bin/sh' >> /etc/passwd", 'USER evil', ID_RUN],
    3,
    /Dockerfile:5: RUN .*: user evil has uid 4294967296 in \/etc\/passwd, out of range \(0 to 2147483647\)/,
  ],
  [
    'a group entry with gid 2^32, selected by name',
    ['ARG BASE', 'FROM ${BASE}', "RUN echo 'evil:x:4294967296:' >> /etc/group", 'USER app:evil', ID_RUN],
    3,
    /Dockerfile:5: RUN .*: group evil has gid 4294967296 in \/etc\/group, out of range/,
  ],
  [
    'COPY --chown=4294967296',
    ['ARG BASE', 'FROM ${BASE}', 'COPY --chown=4294967296 f /f', ID_RUN],
    3,
    /Dockerfile:3: COPY --chown=4294967296: uid 4294967296 is out of range/,
  ],
  [
    'ADD --chown=0:4294967296',
    ['ARG BASE', 'FROM ${BASE}', 'ADD --chown=0:4294967296 f /f', ID_RUN],
    3,
    /Dockerfile:3: ADD --chown=0:4294967296: gid 4294967296 is out of range/,
  ],
  [
    'COPY --chown=evil with uid 2^32 in /etc/passwd',
    [
      'ARG BASE',
      'FROM ${BASE}',
      "RUN echo 'evil:x:4294967296:0:evil:/:/bin/sh' >> /etc/passwd",
      'COPY --chown=evil f /f',
      ID_RUN,
    ],
    3,
    /Dockerfile:4: COPY --chown=evil: user evil has uid 4294967296 in \/etc\/passwd, out of range/,
  ],
] as const)('refuses %s, and no step runs as root', async (_name, lines, code, message) => {
  const r = await build([...lines]);
  expect(r.exitCode, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).not.toMatch(/uid-0 /);
  expect(r.stdout).not.toContain('uid-');
});

test('a layer entry owned by uid 2^31 is a hostile entry (exit 5)', async () => {
  const sentinel = await sentinelDir();
  const pax = (key: string, value: string): string => {
    const body = ` ${key}=${value}\n`;
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return `${len}${body}`;
  };
  const tar = rawTar([
    { name: 'PaxHeaders/owned', type: 'x', data: pax('uid', '2147483648') },
    { name: 'owned', data: 'x' },
  ]);
  const base = await pushLayers(env.reg, 'hostile/uid', 'pax', [tar]);
  const ctx = await contextWith(['ARG BASE', 'FROM ${BASE}', 'LABEL x=1']);
  const r = await runExecutor(['--context', ctx, '--no-push', '--insecure-pull', '--build-arg', `BASE=${base}`], {
    timeoutMs: BOUND,
  });
  expect(r.exitCode, r.stderr).toBe(5);
  expect(r.stderr).toMatch(
    /^error: layer layer 1\/1 \(sha256:[0-9a-f]{64}\) .*"owned": owner 2147483648:0 out of range \(0 to 2147483647\)/m,
  );
  expect(await readdir(sentinel)).toEqual(['victim']);
});

/** An image with a FIFO at /etc/passwd, over busybox (whose layer the test image reuses by digest). */
async function fifoPasswdBase(): Promise<string> {
  const tar = rawTar([
    { name: 'etc/', type: '5' },
    { name: 'etc/passwd', type: '6', mode: 0o644 },
    { name: 'etc/group', type: '6', mode: 0o644 },
  ]);
  return pushLayers(env.reg, 'hostile/fifo-passwd', 'latest', [tar]);
}

test.each([
  [
    'USER someone',
    ['ARG BASE', 'FROM ${BASE}', 'USER someone', 'RUN true'],
    /\/etc\/passwd in the image is a fifo, not a regular file/,
  ],
  [
    'COPY --chown=someone',
    ['ARG BASE', 'FROM ${BASE}', 'COPY --chown=someone f /f'],
    /\/etc\/passwd in the image is a fifo, not a regular file/,
  ],
  [
    'COPY --chown=0:somegroup',
    ['ARG BASE', 'FROM ${BASE}', 'COPY --chown=0:somegroup f /f'],
    /\/etc\/group in the image is a fifo, not a regular file/,
  ],
] as const)(
  'a base layer with a FIFO as /etc/passwd: %s fails with exit 5 instead of hanging',
  async (_name, lines, message) => {
    const sentinel = await sentinelDir();
    const base = await fifoPasswdBase();
    const ctx = await contextWith([...lines]);
    const r = await runExecutor(['--context', ctx, '--no-push', '--insecure-pull', '--build-arg', `BASE=${base}`], {
      timeoutMs: BOUND,
    });
    expect(r.exitCode, r.stderr).not.toBeNull();
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.stderr).toMatch(message);
    expect(await readdir(sentinel)).toEqual(['victim']);
  },
);

test.each([
  ['a FIFO', 'rm /etc/passwd && mkfifo /etc/passwd', /\/etc\/passwd in the image is a fifo, not a regular file/],
  [
    '/dev/zero',
    'rm /etc/passwd && mknod /etc/passwd c 1 5',
    /\/etc\/passwd in the image is a character device, not a regular file/,
  ],
  [
    'a file over 1 MiB',
    'dd if=/dev/zero bs=1024 count=2000 2>/dev/null >> /etc/passwd',
    /\/etc\/passwd in the image is larger than 1048576 bytes/,
  ],
  [
    'a symlink to a device',
    'rm /etc/passwd && mknod /z c 1 5 && ln -s /z /etc/passwd',
    /\/etc\/passwd in the image is a character device, not a regular file/,
  ],
] as const)(
  'an earlier step leaving %s as /etc/passwd makes USER fail with exit 5, quickly',
  async (_name, plant, message) => {
    const r = await build(['ARG BASE', 'FROM ${BASE}', `RUN ${plant}`, 'USER app', ID_RUN]);
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toContain('uid-');
  },
);

test('COPY --from copies a FIFO and device nodes as what they are', async () => {
  const out = await tempDir('oci-out');
  const r = await build(
    [
      'ARG BASE',
      'FROM ${BASE} AS specials',
      'RUN mkdir -p /s/d && mkfifo -m 0640 /s/p && mknod -m 0620 /s/z c 1 5 && mkfifo /s/d/p2 && mknod /s/d/null c 1 3 && chown 1000:1000 /s/p',
      'FROM scratch',
      'COPY --from=specials /s/p /p',
      'COPY --from=specials /s/z /z',
      'COPY --from=specials /s/d /d',
    ],
    ['--oci-layout-path', out],
  );
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ ociLayout: out });
  onTestFinished(() => image.cleanup());
  const facts = async (p: string): Promise<string> => {
    const st = await lstat(join(image.rootfsDir, p));
    const type = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isFile() ? 'file' : 'other';
    return `${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${type === 'char' ? ` ${Math.floor(st.rdev / 256)},${st.rdev % 256}` : ''}`;
  };
  expect(await facts('/p')).toBe('fifo 640 1000:1000');
  expect(await facts('/z')).toBe('char 620 0:0 1,5');
  expect(await facts('/d/p2')).toMatch(/^fifo /);
  expect(await facts('/d/null')).toMatch(/^char \d+ 0:0 1,3$/);
});
