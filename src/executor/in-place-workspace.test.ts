import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { parseBuildOptions, type RawOptions } from '../config/options.js';
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { ContainerFacts } from '../rootfs/container.js';
import type { BuildEnv } from './build-env.js';
import {
  admitInPlace,
  DEBUG_SHELL_DIR,
  inPlaceEnv,
  inPlaceKeep,
  inPlaceWorkspace,
  selfPaths,
  type InPlaceAdmission,
} from './in-place-workspace.js';
import { REPO } from '../../test/support/executor.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const MOUNTINFO =
  '27 1 254:0 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A\n30 27 8:1 /vol /workspace rw - ext4 /dev/sda1 rw\n';
const HOST: ContainerFacts = {
  dockerenv: true,
  containerenv: false,
  env: {},
  cgroup: '0::/init.scope\n',
  mountinfo: '27 1 254:0 / / rw - ext4 /dev/vda rw\n',
};
const POD: ContainerFacts = {
  dockerenv: false,
  containerenv: false,
  env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
  cgroup: '0::/\n',
  mountinfo: MOUNTINFO,
};

function buildEnv(raw: RawOptions, more: Partial<BuildEnv> = {}): { env: BuildEnv; warnings: string[] } {
  const warnings: string[] = [];
  const env: BuildEnv = {
    options: parseBuildOptions({ push: false, rootfs: '/', context: '/workspace', ...raw }, {}),
    logger: { ...silentLogger, warn: (m: string) => warnings.push(m) },
    now: () => new Date(0),
    env: {},
    cwd: '/workspace',
    homeDir: '/root',
    tmpDir: '/tmp',
    signal: new AbortController().signal,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    stepOutput: () => {},
    version: 'test',
    ...more,
  };
  return { env, warnings };
}

test('outside a container --rootfs=/ is refused with exit 2, saying why and what to do', async () => {
  const err = await admitInPlace(buildEnv({}).env, HOST).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(2);
  expect((err as UsageError).message).toBe(
    "--rootfs=/ builds in place over this machine's own filesystem and is refused outside a container; run Kiln's image, or add --force if you really mean it",
  );
  expect((err as UsageError).hint).toMatch(
    /^found only \/\.dockerenv, which does not show a container \(\/\.dockerenv also survives/,
  );
});

test('--force admits it outside a container, with a warning', async () => {
  const { env, warnings } = buildEnv({ force: true });
  const a = await admitInPlace(env, HOST);
  expect(a.mode).toBe('isolation: in-place (--rootfs=/, forced outside a container)');
  expect(warnings).toEqual([expect.stringMatching(/no container detected/)]);
});

test('inside a container it is admitted, naming the evidence', async () => {
  const a = await admitInPlace(buildEnv({}).env, POD);
  expect(a.mode).toMatch(
    /^isolation: in-place \(--rootfs=\/, inside a container: KUBERNETES_SERVICE_HOST is set, \/ is an overlay of container image layers\)$/,
  );
  expect(a.mountinfo).toBe(MOUNTINFO);
});

test.each<[string, RawOptions, Partial<ContainerFacts>, RegExp]>([
  ['a context at /', { context: '/' }, {}, /^--context \/: an in-place build/],
  ['--kaniko-dir /', { kanikoDir: '/' }, {}, /^--kaniko-dir \/: an in-place build/],
  ['an unreadable mount table', {}, { mountinfo: undefined }, /needs \/proc\/self\/mountinfo/],
])('%s is refused', async (_name, raw, facts, message) => {
  const f = { ...POD, ...facts };
  if (facts.mountinfo === undefined && 'mountinfo' in facts) delete f.mountinfo;
  await expect(admitInPlace(buildEnv(raw).env, f)).rejects.toThrow(message);
});

test("the kept paths: mount points, Kiln's directories, the context by both its names, credentials, secrets, output directories", async () => {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'kiln-keep-')));
  dirs.push(base);
  await mkdir(join(base, 'real-context'));
  await symlink(join(base, 'real-context'), join(base, 'context'));
  const { env } = buildEnv(
    {
      context: join(base, 'context'),
      secret: ['id=tok,src=secrets/token'],
      tarPath: 'out/image.tar',
      digestFile: '/digest',
      ignorePath: ['/var/cache'],
    },
    { env: { DOCKER_CONFIG: '/creds' }, cwd: '/home/ci' },
  );
  const admission: InPlaceAdmission = { mode: '', mountinfo: MOUNTINFO };
  const keep = await inPlaceKeep(env, {
    admission,
    kanikoDir: '/kaniko',
    work: '/kaniko/kiln-build-1',
    contextDir: join(base, 'context'),
    self: { kilnDir: '/kaniko/kiln', nodeExecutable: '/kaniko/bin/node' },
  });
  expect(keep).toEqual(
    [
      join(base, 'context'),
      join(base, 'real-context'),
      '/creds',
      '/dev',
      '/home/ci/out',
      '/home/ci/secrets/token',
      '/kaniko',
      '/proc',
      '/sys',
      '/var/cache',
      '/var/run',
      '/workspace',
    ].sort(),
  );
});

test("the debug image's /busybox, where the job's shell runs from, is kept as Kaniko keeps it", async () => {
  const { env } = buildEnv({});
  const k = {
    admission: { mode: '', mountinfo: MOUNTINFO },
    kanikoDir: '/kaniko',
    work: '/kaniko/w',
    contextDir: '/workspace',
  };
  const self = { kilnDir: '/kaniko/lib', nodeExecutable: '/kaniko/bin/node' };
  expect(await inPlaceKeep(env, { ...k, self: { ...self, shellDir: DEBUG_SHELL_DIR } })).toEqual([
    '/busybox',
    '/dev',
    '/kaniko',
    '/proc',
    '/root/.docker',
    '/sys',
    '/var/run',
    '/workspace',
  ]);
  // The latest image has none: a base image's own /busybox is then extracted as usual.
  expect(await inPlaceKeep(env, { ...k, self })).not.toContain('/busybox');
});

test('a context that leads to / through a symlink is refused', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kiln-keep-'));
  dirs.push(base);
  await symlink('/', join(base, 'ctx'));
  const { env } = buildEnv({ context: join(base, 'ctx') });
  const k = {
    admission: { mode: '', mountinfo: MOUNTINFO },
    kanikoDir: '/kaniko',
    work: '/kaniko/w',
    contextDir: join(base, 'ctx'),
    self: { kilnDir: '/kaniko/kiln', nodeExecutable: '/kaniko/node' },
  };
  await expect(inPlaceKeep(env, k)).rejects.toThrow(/ctx leads to \/ itself/);
});

test("the stages' BuildEnv keeps scratch files and cache mounts under --kaniko-dir", async () => {
  const work = await mkdtemp(join(tmpdir(), 'kiln-work-'));
  dirs.push(work);
  const staged = await inPlaceEnv(buildEnv({}).env, '/kaniko', work);
  expect(staged.tmpDir).toBe(join(work, 'tmp'));
  expect((await stat(staged.tmpDir)).isDirectory()).toBe(true);
  expect(staged.options.kanikoDir).toBe('/kaniko');
});

test("Kiln's own directory is its package root here (the bundle's directory in Kiln's image)", async () => {
  const self = await selfPaths();
  expect(self.kilnDir).toBe(REPO.replace(/\/$/, ''));
  expect(self.nodeExecutable).toBe(process.execPath);
});

// These never ask for the target's rootfs nor call cleanup(): either would clear this machine's `/`.
test('the in-place workspace: its work dir under --kaniko-dir, the other stages in directories there, the stages scratch files too', async () => {
  const kanikoDir = await realpath(await mkdtemp(join(tmpdir(), 'kiln-kaniko-')));
  dirs.push(kanikoDir);
  const { env } = buildEnv({ kanikoDir, context: kanikoDir }, { cwd: '/' });
  expect(env.options.cleanup).toBe(false);
  const ws = await inPlaceWorkspace(env, { mode: 'isolation: in-place (test)', mountinfo: MOUNTINFO }, kanikoDir);
  expect(dirname(ws.work)).toBe(kanikoDir);
  // The target and every stage with a RUN go over `/`; a stage without one keeps its directory.
  expect(ws.inPlace({ isTarget: true, hasRun: false })).toBe(true);
  expect(ws.inPlace({ isTarget: false, hasRun: true })).toBe(true);
  expect(ws.inPlace({ isTarget: false, hasRun: false })).toBe(false);
  expect(ws.mode).toBe('isolation: in-place (test)');
  expect(ws.keep).toContain(kanikoDir);
  expect(ws.keep).toContain('/workspace');
  expect(ws.env.tmpDir).toBe(join(ws.work, 'tmp'));
  expect(ws.env.options.kanikoDir).toBe(kanikoDir);
  const stage = await ws.stageRootfs(0, false);
  expect(stage.rootfs.root).toBe(join(ws.work, 'stage-0'));
  expect(stage.keep).toBeUndefined();
  expect((await ws.imageRootfs()).root).toBe(join(ws.work, 'image-0'));
});

test('an in-place workspace that cannot keep what it must removes its work dir again', async () => {
  const kanikoDir = await realpath(await mkdtemp(join(tmpdir(), 'kiln-kaniko-')));
  dirs.push(kanikoDir);
  await symlink('/', join(kanikoDir, 'ctx'));
  const { env } = buildEnv({ kanikoDir, context: join(kanikoDir, 'ctx') }, { cwd: '/' });
  const admission = { mode: '', mountinfo: MOUNTINFO };
  await expect(inPlaceWorkspace(env, admission, join(kanikoDir, 'ctx'))).rejects.toThrow(/ctx leads to \/ itself/);
  expect(await readdir(kanikoDir)).toEqual(['ctx']);
});
