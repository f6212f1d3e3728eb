/**
 * One build, end to end (ARCHITECTURE.md §2): Dockerfile → plan → workspace → stages → sinks →
 * cleanup. Everything it needs comes from the BuildEnv; its workspace is cleaned up when it ends.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { BlobStore } from '../cache/blob-store.js';
import { errnoCode, fsError, UsageError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { imageDigest } from '../oci/image.js';
import { planBuild } from '../plan/planner.js';
import { unusedBuildArgs } from '../plan/unused-args.js';
import { buildStages } from './stages.js';
import { contextDirProblem } from '../context/context-dir.js';
import { readDockerignore } from '../context/dockerignore.js';
import type { Digest } from '../oci/digest.js';
import type { BuildEnv } from './build-env.js';
import { createRegistryClients, type RegistryClients } from './clients.js';
import { deliver } from './outputs.js';
import { layerTimes } from '../config/layer-options.js';
import { findLayerTools } from '../exec/layer-tools.js';
import type { LayerTools } from '../layers/tools.js';
import { admitInPlace, selfPaths, type InPlaceAdmission } from './in-place-workspace.js';
import { placeBuild, scratchBase } from './placement.js';
import { openContext } from './remote-context.js';
import type { Workspace } from './workspace.js';

export interface BuildResult {
  digest: Digest;
  pushed: string[];
}

async function readDockerfile(
  env: BuildEnv,
  contextDir: string,
): Promise<{ text: string; name: string; path: string }> {
  const o = env.options;
  // Kaniko: a relative --dockerfile is tried as given, then inside the context (fetched or not).
  const candidates = isAbsolute(o.dockerfile)
    ? [o.dockerfile]
    : [resolve(env.cwd, o.dockerfile), resolve(contextDir, o.dockerfile)];
  for (const p of candidates) {
    try {
      if ((await stat(p)).isFile()) return { text: await readFile(p, 'utf8'), name: o.dockerfile, path: p };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(`reading the Dockerfile ${p}`, err);
    }
  }
  throw new UsageError(`Dockerfile not found: ${o.dockerfile} (looked in ${[...new Set(candidates)].join(' and ')})`);
}

/**
 * What is checked before the build makes its workspace: push access to every destination, the
 * layer times, and the host programs the layers need.
 */
async function preflight(
  env: BuildEnv,
  clients: RegistryClients,
): Promise<{ times: ReturnType<typeof layerTimes>; layerTools: LayerTools }> {
  const o = env.options;
  if (o.push && !o.skipPushPermissionCheck) {
    for (const dest of o.destinations) await clients.push.checkPushAccess(dest.registry, dest.repository, env.signal);
  }
  // SOURCE_DATE_EPOCH and --reproducible: the times of new content (config/layer-options.ts).
  const times = layerTimes(o, env.env, env.now());
  const layerTools = await findLayerTools(env.env.PATH ?? '');
  if (o.compression === 'zstd' && !layerTools.zstd)
    throw new UsageError('--compression=zstd needs the zstd program (Debian package zstd), which is not on PATH');
  if (!layerTools.xattrs)
    env.logger.warn(
      'setfattr/getfattr (Debian package attr) not found: file capabilities and other xattrs are neither extracted nor recorded in new layers',
    );
  return { times, layerTools };
}

export async function build(env: BuildEnv): Promise<BuildResult> {
  const o = env.options;
  // --rootfs=/ is admitted (inside a container, or with --force) or refused before anything is
  // read, pulled or touched, so that it can never wipe a developer's machine (ARCHITECTURE.md §4).
  const admission = o.inPlace ? await admitInPlace(env) : undefined;
  const context = await openContext(env, o.context, scratchBase(env, await selfPaths(), admission !== undefined));
  try {
    return await buildIn(env, context.dir, admission);
  } finally {
    context.cleanup();
  }
}

/** The build, once its context is a directory. */
async function buildIn(
  env: BuildEnv,
  contextDir: string,
  admission: InPlaceAdmission | undefined,
): Promise<BuildResult> {
  const o = env.options;
  // Kaniko builds on without a context; a COPY or ADD from it fails later, naming it (context-dir.ts).
  const noContext = await contextDirProblem(contextDir);
  if (noContext !== undefined)
    env.logger.warn(`${noContext} (--context ${o.context.display}): COPY and ADD will find no files in it`, {
      cwd: env.cwd,
    });
  const { text, name, path: dockerfilePath } = await readDockerfile(env, contextDir);
  const df = parseDockerfile(text, name);
  const plan = planBuild(df, {
    buildArgs: o.buildArgs,
    ...(o.target !== undefined ? { target: o.target } : {}),
    skipUnusedStages: o.skipUnusedStages,
    targetPlatform: o.platform ?? env.hostPlatform,
    buildPlatform: env.hostPlatform,
  });
  const clients = createRegistryClients(env);
  let workspace: Workspace | undefined;
  try {
    const { times, layerTools } = await preflight(env, clients);
    const placed = await placeBuild(env, plan, contextDir, admission);
    workspace = placed.workspace;
    const image = await buildStages({
      ...(placed.runner ? { runner: placed.runner } : {}),
      env: workspace.env,
      plan,
      workspace,
      store: new BlobStore(join(workspace.work, 'blobs')),
      clients,
      contextDir,
      dockerignore: await readDockerignore(contextDir, dockerfilePath),
      ...times,
      layerTools,
    });
    for (const k of unusedBuildArgs(plan, o.buildArgs)) env.logger.warn(`build arg ${k} was not consumed by any ARG`);
    const digest = imageDigest(image);
    const pushed = await deliver(image, env, clients);
    return { digest, pushed };
  } finally {
    await clients.close();
    // Every stage has stopped (buildStages waits for all of them, even after a failure).
    workspace?.cleanup();
  }
}
