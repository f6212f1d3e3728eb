/**
 * The scratch workspace: a work dir per build under `--kaniko-dir` or the temp dir, a fresh
 * directory for each stage and each image `COPY --from` reads, and all of it gone at cleanup.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { parseBuildOptions, type RawOptions } from '../config/options.js';
import { silentLogger } from '../log.js';
import type { BuildEnv } from './build-env.js';
import { scratchWorkspace, type Workspace } from './workspace.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-workspace-'));
  dirs.push(dir);
  return dir;
}

function buildEnv(raw: RawOptions, tmpDir: string): BuildEnv {
  return {
    options: parseBuildOptions({ push: false, ...raw }, {}),
    logger: silentLogger,
    now: () => new Date(0),
    env: {},
    cwd: '/',
    homeDir: '/root',
    tmpDir,
    signal: new AbortController().signal,
    hostPlatform: { os: 'linux', architecture: 'amd64' },
    stepOutput: () => {},
    version: 'test',
  };
}

test('every stage and every COPY --from image gets a fresh directory under the work dir, all removed at cleanup', async () => {
  const tmp = await tempDir();
  const env = buildEnv({}, tmp);
  const ws: Workspace = await scratchWorkspace(env);
  expect(dirname(ws.work)).toBe(tmp);
  expect(basename(ws.work)).toMatch(/^kiln-build-/);
  expect(ws.env).toBe(env);
  expect(ws.inPlace({ isTarget: true, hasRun: true })).toBe(false);
  expect(ws.mode).toBeUndefined();
  expect(ws.runMountsDir).toBe(join(ws.work, 'run-mounts'));
  const stage0 = await ws.stageRootfs(0, false);
  const stage2 = await ws.stageRootfs(2, true);
  expect(stage0).toEqual({ rootfs: expect.objectContaining({ root: join(ws.work, 'stage-0') }) });
  expect(stage2.rootfs.root).toBe(join(ws.work, 'stage-2'));
  expect(stage2.keep).toBeUndefined();
  expect((await ws.imageRootfs()).root).toBe(join(ws.work, 'image-0'));
  expect((await ws.imageRootfs()).root).toBe(join(ws.work, 'image-1'));
  const st = await stat(stage0.rootfs.root);
  expect(st.isDirectory() && st.mode & 0o7777).toBe(0o755 & ~process.umask());
  expect((await readdir(ws.work)).sort()).toEqual(['image-0', 'image-1', 'stage-0', 'stage-2']);
  ws.cleanup();
  expect(await readdir(tmp)).toEqual([]);
});

test('the work dir goes under --kaniko-dir when it is given, which is made if missing', async () => {
  const tmp = await tempDir();
  const kanikoDir = join(await tempDir(), 'kaniko', 'dir');
  const ws = await scratchWorkspace(buildEnv({ kanikoDir }, tmp));
  expect(dirname(ws.work)).toBe(kanikoDir);
  ws.cleanup();
  expect(await readdir(kanikoDir)).toEqual([]);
  expect(await readdir(tmp)).toEqual([]);
});
