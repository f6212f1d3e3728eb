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
import { readDockerignore, type Dockerignore } from '../context/dockerignore.js';
import type { Digest } from '../oci/digest.js';
import { buildTrustedCas, type BuildEnv } from './build-env.js';
import { drainCacheSession, openCacheSession } from './cache-session.js';
import { createRegistryClients, type RegistryClients } from './clients.js';
import { deliver } from './outputs.js';
import { layerTimes } from '../config/layer-options.js';
import { findLayerTools } from '../exec/layer-tools.js';
import type { LayerTools } from '../layers/tools.js';
import { admitInPlace, selfPaths, type InPlaceAdmission, type SelfPaths } from './in-place-workspace.js';
import { placeBuild, scratchBase } from './placement.js';
import { openContext, type OpenedContext, type ProceedWhen } from './remote-context.js';
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

/**
 * A fetched context once all of it is there: the warning for a missing `--context-sub-path`, its
 * `.dockerignore`, and a check that the Dockerfile read early is still the one in the context (a
 * tar may hold a name twice, the last one winning).
 */
async function wholeContext(
  env: BuildEnv,
  contextDir: string,
  dockerfile: { text: string; name: string; path: string },
): Promise<Dockerignore> {
  await warnNoContext(env, contextDir);
  const now = await readFile(dockerfile.path, 'utf8').catch(() => undefined);
  if (now !== dockerfile.text)
    throw new UsageError(
      `--context ${env.options.context.display}: ${dockerfile.name} changed after the build read it: the archive holds it more than once`,
      { hint: 'make the context archive with one entry for the Dockerfile' },
    );
  return readDockerignore(contextDir, dockerfile.path);
}

/**
 * When the build may go on while a fetched context still unpacks (issue 14: "fetched while the
 * base image is pulled"): at once when the Dockerfile is not in the context, else once it is.
 */
async function proceedWhen(env: BuildEnv): Promise<ProceedWhen> {
  const f = env.options.dockerfile;
  if (isAbsolute(f)) return 'at-once';
  const here = await stat(resolve(env.cwd, f)).then(
    (st) => st.isFile(),
    () => false,
  );
  return here ? 'at-once' : { file: f };
}

export async function build(given: BuildEnv): Promise<BuildResult> {
  const o = given.options;
  // --rootfs=/ is admitted (inside a container, or with --force) or refused before anything is
  // read, pulled or touched, so that it can never wipe a developer's machine (ARCHITECTURE.md §4).
  const admission = o.inPlace ? await admitInPlace(given) : undefined;
  // The extra CAs are read once: the context fetch, the credential helpers and the registry
  // clients all trust them.
  const env: BuildEnv = { ...given, trustedCas: buildTrustedCas(given) };
  // Where Kiln itself runs from decides the scratch base and, in its own image, the placement.
  const self = await selfPaths();
  const base = scratchBase(env, self, admission !== undefined);
  const context = await openContext(env, o.context, base, await proceedWhen(env));
  // A fetch failing while the bases are pulled stops the build, and is the error it reports.
  const failed = new AbortController();
  context.ready.catch((err: unknown) => failed.abort(err));
  try {
    const placing = { admission, self };
    return await buildIn({ ...env, signal: AbortSignal.any([env.signal, failed.signal]) }, context, placing);
  } catch (err) {
    throw failed.signal.aborted && !env.signal.aborted ? failed.signal.reason : err;
  } finally {
    await context.cleanup();
  }
}

/** Warns when the context directory is missing: Kaniko builds on, and COPY or ADD fail later (context-dir.ts). */
async function warnNoContext(env: BuildEnv, contextDir: string): Promise<void> {
  const noContext = await contextDirProblem(contextDir);
  if (noContext !== undefined)
    env.logger.warn(`${noContext} (--context ${env.options.context.display}): COPY and ADD will find no files in it`, {
      cwd: env.cwd,
    });
}

/** The build, once its context is open (a fetched one may still be unpacking). */
async function buildIn(
  env: BuildEnv,
  context: OpenedContext,
  placing: { admission: InPlaceAdmission | undefined; self: SelfPaths },
): Promise<BuildResult> {
  const o = env.options;
  const contextDir = context.dir;
  if (!context.fetched) await warnNoContext(env, contextDir);
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
  const cache = openCacheSession(env, clients);
  let workspace: Workspace | undefined;
  try {
    const { times, layerTools } = await preflight(env, clients);
    const placed = await placeBuild(env, plan, contextDir, placing.admission, placing.self);
    workspace = placed.workspace;
    const image = await buildStages({
      ...(placed.runner ? { runner: placed.runner } : {}),
      env: workspace.env,
      plan,
      workspace,
      store: new BlobStore(join(workspace.work, 'blobs')),
      clients,
      contextDir,
      contextOwned: context.fetched,
      dockerignore: context.fetched
        ? context.ready.then(() => wholeContext(env, contextDir, { text, name, path: dockerfilePath }))
        : await readDockerignore(contextDir, dockerfilePath),
      ...times,
      layerTools,
      ...(cache ? { cache } : {}),
    });
    for (const k of unusedBuildArgs(plan, o.buildArgs)) env.logger.warn(`build arg ${k} was not consumed by any ARG`);
    const digest = imageDigest(image);
    const pushed = await deliver(image, env, clients);
    return { digest, pushed };
  } finally {
    // Entries still being stored (aborted with the build when it failed) before the clients go.
    await drainCacheSession(cache);
    await clients.close();
    // Every stage has stopped (buildStages waits for all of them, even after a failure).
    workspace?.cleanup();
  }
}
