/**
 * One build, end to end: Dockerfile → base image → rootfs → steps → layers → image → sinks.
 * Everything it needs comes from the BuildEnv; its scratch directory is removed when it ends.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { clearRootfs } from '../rootfs/clear.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { BlobStore } from '../cache/blob-store.js';
import { errnoCode, fsError, UsageError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { imageDigest } from '../oci/image.js';
import { planBuild } from '../plan/planner.js';
import { unusedBuildArgs } from '../plan/unused-args.js';
import { buildStages } from './stages.js';
import { readDockerignore } from '../context/dockerignore.js';
import type { Digest } from '../oci/digest.js';
import type { BuildEnv } from './build-env.js';
import { createRegistryClients } from './clients.js';
import { deliver } from './outputs.js';
import { layerTimes } from '../config/layer-options.js';
import { findLayerTools } from '../exec/layer-tools.js';
import { admitInPlace, IN_PLACE_KANIKO_DIR, inPlaceEnv, inPlaceKeep } from './in-place.js';

export interface BuildResult {
  digest: Digest;
  pushed: string[];
}

async function readDockerfile(env: BuildEnv): Promise<{ text: string; name: string; path: string }> {
  const o = env.options;
  // Kaniko: a relative --dockerfile is tried as given, then inside the context.
  const candidates = isAbsolute(o.dockerfile)
    ? [o.dockerfile]
    : [resolve(env.cwd, o.dockerfile), resolve(env.cwd, o.contextDir, o.dockerfile)];
  for (const p of candidates) {
    try {
      if ((await stat(p)).isFile()) return { text: await readFile(p, 'utf8'), name: o.dockerfile, path: p };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(`reading the Dockerfile ${p}`, err);
    }
  }
  throw new UsageError(`Dockerfile not found: ${o.dockerfile} (looked in ${[...new Set(candidates)].join(' and ')})`);
}

export async function build(env: BuildEnv): Promise<BuildResult> {
  const o = env.options;
  // --rootfs=/ is admitted (inside a container, or with --force) or refused before anything is
  // read, pulled or touched, so that it can never wipe a developer's machine (ARCHITECTURE.md §4).
  const inPlace = o.inPlace ? await admitInPlace(env) : undefined;
  const { text, name, path: dockerfilePath } = await readDockerfile(env);
  const df = parseDockerfile(text, name);
  const contextDir = resolve(env.cwd, o.contextDir);
  const plan = planBuild(df, {
    buildArgs: o.buildArgs,
    ...(o.target !== undefined ? { target: o.target } : {}),
    skipUnusedStages: o.skipUnusedStages,
    targetPlatform: o.platform ?? env.hostPlatform,
    buildPlatform: env.hostPlatform,
  });
  const clients = createRegistryClients(env);
  const base = o.kanikoDir ?? (inPlace ? IN_PLACE_KANIKO_DIR : env.tmpDir);
  await mkdir(base, { recursive: true }).catch((err: unknown) => {
    throw fsError(`creating ${base}`, err);
  });
  const work = await mkdtemp(join(base, 'kiln-build-')).catch((err: unknown) => {
    throw fsError(`creating a build directory in ${base}`, err);
  });
  let inPlaceStage: { mode: string; keep: readonly string[] } | undefined;
  try {
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
    inPlaceStage = inPlace && {
      mode: inPlace.mode,
      keep: await inPlaceKeep(env, {
        admission: inPlace,
        kanikoDir: resolve(env.cwd, base),
        work: resolve(env.cwd, work),
        contextDir,
      }),
    };
    const image = await buildStages({
      env: inPlace ? await inPlaceEnv(env, resolve(env.cwd, base), resolve(env.cwd, work)) : env,
      plan,
      work,
      store: new BlobStore(join(work, 'blobs')),
      clients,
      contextDir,
      dockerignore: await readDockerignore(contextDir, dockerfilePath),
      ...times,
      layerTools,
      ...(inPlaceStage ? { inPlace: inPlaceStage } : {}),
    });
    for (const k of unusedBuildArgs(plan, o.buildArgs)) env.logger.warn(`build arg ${k} was not consumed by any ARG`);
    const digest = imageDigest(image);
    const pushed = await deliver(image, env, clients);
    return { digest, pushed };
  } finally {
    await clients.close();
    // Synchronously, on purpose: fs.promises.rm starts an unlink for every entry of a directory
    // at once, which held 400 MB for a rootfs of 200,000 files (issue 11, finding 8); rmSync
    // walks depth-first in constant memory, and nothing else runs at this point.
    rmSync(work, { recursive: true, force: true });
    // Kaniko's --cleanup: a container that builds again starts from its own files only.
    if (inPlaceStage && o.cleanup) {
      const removed = clearRootfs(new Rootfs('/'), inPlaceStage.keep);
      env.logger.info(`in-place: --cleanup emptied / (${removed} paths removed)`);
    }
  }
}
