/**
 * The host side of RUN --mount, without namespaces: which host paths the runner gets, that
 * symlinks never lead out of a root, that mount points Kiln made vanish again, and how secrets
 * and caches are laid out.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { NO_FILTER, PathFilter } from '../context/path-filter.js';
import { StepError } from '../errors.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { prepareRunMounts, type RunMountEnv } from './run-mounts.js';
import type { RunMountSpec as MountSpec } from './run-mount-spec.js';

const at = { file: 'Dockerfile', line: 4, column: 1 };
let base: string;
let rootfs: Rootfs;
let env: RunMountEnv;
let secrets: Map<string, Buffer>;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-run-mounts-'));
  rootfs = new Rootfs(join(base, 'root'));
  const context = join(base, 'context');
  await mkdir(join(rootfs.root, 'etc'), { recursive: true });
  await mkdir(join(context, 'src', 'node_modules'), { recursive: true });
  await writeFile(join(context, 'src', 'main.c'), 'int main;\n');
  await symlink('/etc', join(context, 'escape')); // resolves inside the context, never to the host's /etc
  await symlink('/etc', join(rootfs.root, 'linked')); // resolves inside the rootfs
  secrets = new Map([['tok', Buffer.from('t0ken')]]);
  env = {
    contextDir: context,
    contextIgnore: NO_FILTER,
    fromSource: () => Promise.reject(new Error('no stages here')),
    cacheRoot: join(base, 'state', 'cache', 'run-mounts'),
    scratchDir: join(base, 'work', 'run-mounts'),
    secret: (id) => Promise.resolve(secrets.get(id)),
  };
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const bind = (source: string, target: string, readonly = true): MountSpec => ({
  type: 'bind',
  source,
  target,
  readonly,
});
const secret = (id: string, over: Partial<Extract<MountSpec, { type: 'secret' }>> = {}): MountSpec => ({
  type: 'secret',
  id,
  target: `/run/secrets/${id}`,
  required: false,
  mode: 0o400,
  uid: 0,
  gid: 0,
  ...over,
});

test('targets are made for the step and removed afterwards, parents included', async () => {
  const prepared = await prepareRunMounts([bind('src', '/work/src'), { type: 'tmpfs', target: '/tmp/t' }], {
    rootfs,
    env,
    at,
  });
  expect(prepared.extra.mounts).toEqual([
    { kind: 'bind', source: join(env.contextDir, 'src'), target: join(rootfs.root, 'work', 'src'), readonly: true },
    { kind: 'tmpfs', target: join(rootfs.root, 'tmp', 't') },
  ]);
  expect((await stat(join(rootfs.root, 'work', 'src'))).isDirectory()).toBe(true);
  await prepared.cleanup();
  expect((await readdir(rootfs.root)).sort()).toEqual(['etc', 'linked']);
  expect(await readdir(env.scratchDir)).toEqual([]);
});

test('a created parent the step wrote into is kept; pre-existing targets are left alone', async () => {
  const prepared = await prepareRunMounts(
    [
      { type: 'tmpfs', target: '/etc' },
      { type: 'tmpfs', target: '/out/t' },
    ],
    { rootfs, env, at },
  );
  await writeFile(join(rootfs.root, 'out', 'result'), 'made by the step');
  await prepared.cleanup();
  expect(await readdir(join(rootfs.root, 'out'))).toEqual(['result']);
  expect((await stat(join(rootfs.root, 'etc'))).isDirectory()).toBe(true);
});

test('symlinks resolve inside their root: a source in the context, a target in the rootfs', async () => {
  const prepared = await prepareRunMounts([bind('escape', '/linked/conf', false)], { rootfs, env, at }).catch(
    (e: unknown) => e,
  );
  // /escape -> /etc inside the context, which does not exist there: never the host's /etc.
  expect(prepared).toBeInstanceOf(StepError);
  expect(String(prepared)).toMatch(/Dockerfile:4: RUN --mount: source escape not found in the build context/);
  const ok = await prepareRunMounts([{ type: 'tmpfs', target: '/linked/conf' }], { rootfs, env, at });
  expect(ok.extra.mounts[0]).toEqual({ kind: 'tmpfs', target: join(rootfs.root, 'etc', 'conf') });
  await ok.cleanup();
});

test('a writable directory bind is an overlay; a writable file bind is a private copy', async () => {
  await writeFile(join(env.contextDir, 'one.txt'), 'one');
  const prepared = await prepareRunMounts([bind('src', '/s', false), bind('one.txt', '/one.txt', false)], {
    rootfs,
    env,
    at,
  });
  const [dir, file] = prepared.extra.mounts;
  expect(dir).toEqual({ kind: 'overlay', source: join(env.contextDir, 'src'), target: join(rootfs.root, 's') });
  expect(file?.kind === 'bind' && !file.readonly && file.source.startsWith(env.scratchDir)).toBe(true);
  expect((await lstat(join(rootfs.root, 'one.txt'))).isFile()).toBe(true);
  await prepared.cleanup();
});

test('.dockerignore: a bind of the context mounts a filtered view, unless nothing under the source can be ignored', async () => {
  await writeFile(join(env.contextDir, 'secret.env'), 'TOKEN=x');
  await writeFile(join(env.contextDir, 'src', 'local.env'), 'TOKEN=y');
  env.contextIgnore = new PathFilter(['*.env', 'src/*.env', 'src/node_modules', 'other']);
  const prepared = await prepareRunMounts([bind('.', '/ctx'), bind('src', '/src', false)], { rootfs, env, at });
  const [whole, sub] = prepared.extra.mounts;
  const views = [whole, sub].map((m) => (m?.kind === 'bind' || m?.kind === 'overlay' ? m.source : ''));
  for (const v of views) expect(v.startsWith(env.scratchDir)).toBe(true);
  expect((await readdir(views[0] ?? '')).sort()).toEqual(['escape', 'src']);
  expect(await readdir(join(views[0] ?? '', 'src'))).toEqual(['main.c']);
  expect(await readdir(views[1] ?? '')).toEqual(['main.c']);
  expect(sub?.kind).toBe('overlay');
  // An ignored source is not found, as named or through a symlink.
  await expect(prepareRunMounts([bind('secret.env', '/s')], { rootfs, env, at })).rejects.toThrow(
    /source secret.env not found in the build context/,
  );
  await symlink('src/local.env', join(env.contextDir, 'alias'));
  await expect(prepareRunMounts([bind('alias', '/s')], { rootfs, env, at })).rejects.toThrow(/source alias not found/);
  await prepared.cleanup();
  expect(await readdir(env.scratchDir)).toEqual([]);
  expect((await readdir(join(env.contextDir, 'src'))).sort()).toEqual(['local.env', 'main.c', 'node_modules']);
  // Patterns that cannot reach below the source: the directory itself is mounted, as before.
  env.contextIgnore = new PathFilter(['secret.env', 'lib/*.o']);
  const raw = await prepareRunMounts([bind('src', '/src')], { rootfs, env, at });
  expect(raw.extra.mounts[0]).toEqual({
    kind: 'bind',
    source: join(env.contextDir, 'src'),
    target: join(rootfs.root, 'src'),
    readonly: true,
  });
  await raw.cleanup();
});

test('nested targets go through the mount above them; what a read-only source lacks is an error', async () => {
  const cache: MountSpec = {
    type: 'cache',
    id: 'nm',
    target: '/w/src/node_modules',
    readonly: false,
    sharing: 'locked',
    mode: 0o700,
    uid: 0,
    gid: 0,
  };
  const prepared = await prepareRunMounts([cache, bind('src', '/w/src')], { rootfs, env, at });
  const [outer, inner] = prepared.extra.mounts;
  expect(outer?.target).toBe(join(rootfs.root, 'w', 'src'));
  expect(inner?.target).toBe(join(rootfs.root, 'w', 'src', 'node_modules'));
  expect(prepared.extra.locks).toEqual([`${inner?.kind === 'bind' ? inner.source : ''}.lock`]);
  await prepared.cleanup();
  const missing = bind('src', '/w/src/absent/deeper');
  await expect(prepareRunMounts([missing, bind('src', '/w/src')], { rootfs, env, at })).rejects.toThrow(
    /in the mount at \/w\/src, \/absent is not a directory/,
  );
  await expect(
    prepareRunMounts([{ type: 'tmpfs', target: '/t' }, bind('src', '/t/x')], { rootfs, env, at }),
  ).rejects.toThrow(/cannot hold other mounts/);
});

test('a cache directory is made once with its mode and kept between builds', async () => {
  const spec: MountSpec = {
    type: 'cache',
    id: 'go',
    target: '/root/.cache',
    readonly: false,
    sharing: 'shared',
    mode: 0o750,
    uid: 0,
    gid: 0,
  };
  const first = await prepareRunMounts([spec], { rootfs, env, at });
  const dir = first.extra.mounts[0]?.kind === 'bind' ? first.extra.mounts[0].source : '';
  await writeFile(join(dir, 'kept'), 'x');
  await first.cleanup();
  const second = await prepareRunMounts([spec], { rootfs, env, at });
  expect(second.extra.mounts[0]).toMatchObject({ source: dir });
  expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('750');
  expect(await readFile(join(dir, 'kept'), 'utf8')).toBe('x');
  expect(second.extra.locks).toEqual([]);
  await second.cleanup();
});

test('secrets: a read-only file with its mode, an env entry, skipped when optional, an error when required', async () => {
  const prepared = await prepareRunMounts(
    [secret('tok', { mode: 0o440 }), secret('tok', { env: 'TOKEN' }), secret('none')],
    { rootfs, env, at },
  );
  expect(prepared.env).toEqual(['TOKEN=t0ken']);
  expect(prepared.extra.mounts).toHaveLength(2);
  const file = prepared.extra.mounts[0];
  expect(file).toMatchObject({ kind: 'bind', target: join(rootfs.root, 'run', 'secrets', 'tok'), readonly: true });
  const source = file?.kind === 'bind' ? file.source : '';
  expect(await readFile(source, 'utf8')).toBe('t0ken');
  expect(((await stat(source)).mode & 0o777).toString(8)).toBe('440');
  expect(await readFile(join(rootfs.root, 'run', 'secrets', 'tok'), 'utf8')).toBe(''); // the mount point holds nothing
  await prepared.cleanup();
  await expect(lstat(source)).rejects.toThrow();
  expect(await readdir(rootfs.root)).not.toContain('run');
  await expect(prepareRunMounts([secret('none', { required: true })], { rootfs, env, at })).rejects.toThrow(
    /secret none is required but was not given/,
  );
});

test('a #! heredoc is written executable into its own pipes directory', async () => {
  const prepared = await prepareRunMounts([], {
    rootfs,
    env,
    at,
    script: { name: 'SCRIPT', content: '#!/bin/sh\necho hi\n' },
  });
  const pipes = prepared.extra.pipes ?? '';
  expect(((await stat(join(pipes, 'SCRIPT'))).mode & 0o777).toString(8)).toBe('755');
  await prepared.cleanup();
});

test('targets under /dev, /proc and /sys, a symlink target and a type mismatch are refused', async () => {
  await expect(prepareRunMounts([{ type: 'tmpfs', target: '/dev/shm' }], { rootfs, env, at })).rejects.toThrow(
    /target \/dev\/shm is not supported: Kiln provides \/dev itself/,
  );
  await expect(prepareRunMounts([{ type: 'tmpfs', target: '/linked' }], { rootfs, env, at })).rejects.toThrow(
    /\/linked is a symlink or special file/,
  );
  await expect(prepareRunMounts([secret('tok', { target: '/etc' })], { rootfs, env, at })).rejects.toThrow(
    /\/etc is a directory, and the mount needs a file there/,
  );
  expect((await readdir(rootfs.root)).sort()).toEqual(['etc', 'linked']);
});
