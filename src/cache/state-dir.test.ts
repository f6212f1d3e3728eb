import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { FilesystemError } from '../errors.js';
import { ensurePrivateDir, stateDirPath, stateEntryDir, stateLockFile } from './state-dir.js';

const run = promisify(execFile);
/** The tests run as root; 1000 plays another local user. */
const OTHER = 1000;
let base: string;
let sentinel: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-state-'));
  sentinel = await mkdtemp(join(tmpdir(), 'kiln-sentinel-'));
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
  await rm(sentinel, { recursive: true, force: true });
});

test.each([
  [{ kanikoDir: '/kaniko', euid: 0 }, '/kaniko'],
  [{ kanikoDir: 'rel/dir', euid: 1000 }, '/work/here/rel/dir'],
  [{ kanikoDir: undefined, euid: 0 }, '/var/cache/kiln'],
  [{ kanikoDir: undefined, euid: 1000 }, '/home/u/.cache/kiln'],
  [{ kanikoDir: undefined, euid: 1000, env: { XDG_CACHE_HOME: '/xdg' } }, '/xdg/kiln'],
  [{ kanikoDir: undefined, euid: 1000, env: { XDG_CACHE_HOME: 'relative' } }, '/home/u/.cache/kiln'], // the XDG spec ignores relative paths
  [{ kanikoDir: undefined, euid: 0, env: { XDG_CACHE_HOME: '/xdg', TMPDIR: '/tmp' } }, '/var/cache/kiln'], // never the shared temp dir
])('the state dir of %j is %s', (input, expected) => {
  expect(stateDirPath({ cwd: '/work/here', homeDir: '/home/u', env: {}, ...input })).toBe(expected);
});

test('a missing path is made private, component by component, below a sticky /tmp', async () => {
  const dir = join(base, 'state', 'cache', 'run-mounts');
  expect(await ensurePrivateDir(dir, 0)).toBe(dir);
  for (const p of [join(base, 'state'), join(base, 'state', 'cache'), dir]) {
    const st = await lstat(p);
    expect([st.isDirectory(), st.mode & 0o7777, st.uid], p).toEqual([true, 0o700, 0]);
  }
  await ensurePrivateDir(dir, 0); // and accepted as it is the next time
});

/** Plants something at `<base>/state` or below; the expected problem. */
type Plant = (state: string) => Promise<[string, RegExp]>;

test.each<[string, Plant]>([
  [
    'the state dir owned by another user',
    async (state) => {
      await mkdir(state, { mode: 0o700 });
      await chown(state, OTHER, OTHER);
      return [state, /is owned by uid 1000, expected 0$/];
    },
  ],
  [
    'the state dir a symlink to a sentinel',
    async (state) => {
      await symlink(sentinel, state);
      return [state, /is a symlink/];
    },
  ],
  [
    'a group-writable state dir',
    async (state) => {
      await mkdir(state);
      await chmod(state, 0o775);
      return [state, /is writable by group or others \(mode 0775\)/];
    },
  ],
  [
    'a world-writable sticky dir owned by another user',
    async (state) => {
      await mkdir(state);
      await chown(state, OTHER, OTHER);
      await chmod(state, 0o1777);
      return [state, /is owned by uid 1000/];
    },
  ],
  [
    'a regular file as the cache dir',
    async (state) => {
      await mkdir(state, { mode: 0o700 });
      await writeFile(join(state, 'cache'), '');
      return [join(state, 'cache'), /is not a directory/];
    },
  ],
  [
    'the cache root readable by others',
    async (state) => {
      await mkdir(join(state, 'cache', 'run-mounts'), { recursive: true, mode: 0o700 });
      await chmod(join(state, 'cache', 'run-mounts'), 0o755);
      return [join(state, 'cache', 'run-mounts'), /has mode 0755, expected 0700/];
    },
  ],
  [
    'the cache root owned by another user',
    async (state) => {
      await mkdir(join(state, 'cache', 'run-mounts'), { recursive: true, mode: 0o700 });
      await chown(join(state, 'cache', 'run-mounts'), OTHER, OTHER);
      return [join(state, 'cache', 'run-mounts'), /is owned by uid 1000, expected 0$/];
    },
  ],
])('refuses %s, changing nothing', async (_what, plant) => {
  const state = join(base, 'state');
  const [path, problem] = await plant(state);
  const err = await ensurePrivateDir(join(state, 'cache', 'run-mounts'), 0).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FilesystemError);
  expect((err as Error).message).toMatch(new RegExp(`^unsafe state directory: ${path} `));
  expect((err as Error).message).toMatch(problem);
  expect(await readdir(sentinel)).toEqual([]);
});

test('cache entries: made with mkdir, found again, a planted symlink refused', async () => {
  const root = await ensurePrivateDir(join(base, 'state'), 0);
  expect(await stateEntryDir(root, 'a')).toEqual({ path: join(root, 'a'), made: true });
  expect(await stateEntryDir(root, 'a')).toEqual({ path: join(root, 'a'), made: false });
  await symlink(sentinel, join(root, 'b'));
  await expect(stateEntryDir(root, 'b')).rejects.toThrow(`unsafe state directory: ${join(root, 'b')} is a symlink`);
  await symlink(join(sentinel, 'missing'), join(root, 'c')); // dangling: mkdir must not create through it
  await expect(stateEntryDir(root, 'c')).rejects.toThrow('is a symlink');
  expect(await readdir(sentinel)).toEqual([]);
});

test('lock files: created 0600, reopened, never through a symlink, a FIFO or another owner', async () => {
  const root = await ensurePrivateDir(join(base, 'state'), 0);
  expect(await stateLockFile(join(root, 'a.lock'), 0)).toBe(join(root, 'a.lock'));
  expect((await lstat(join(root, 'a.lock'))).mode & 0o7777).toBe(0o600);
  await stateLockFile(join(root, 'a.lock'), 0);
  await writeFile(join(sentinel, 'victim'), 'precious');
  await symlink(join(sentinel, 'victim'), join(root, 'b.lock'));
  await expect(stateLockFile(join(root, 'b.lock'), 0)).rejects.toThrow('b.lock is a symlink');
  await symlink(join(sentinel, 'new'), join(root, 'c.lock'));
  await expect(stateLockFile(join(root, 'c.lock'), 0)).rejects.toThrow('is a symlink');
  await run('mkfifo', [join(root, 'd.lock')]);
  await expect(stateLockFile(join(root, 'd.lock'), 0)).rejects.toThrow('d.lock is not a regular file');
  await writeFile(join(root, 'e.lock'), '');
  await chown(join(root, 'e.lock'), OTHER, OTHER);
  await expect(stateLockFile(join(root, 'e.lock'), 0)).rejects.toThrow('e.lock is owned by uid 1000, expected 0');
  expect((await readdir(sentinel)).sort()).toEqual(['victim']);
}, 5_000);
