/**
 * One build, end to end: Dockerfile → base image → rootfs → steps → layers → image → sinks.
 * Everything it needs comes from the BuildEnv; its scratch directory is removed when it ends.
 */
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { BlobStore } from '../cache/blob-store.js';
import { DockerfileError, errnoCode, fsError, UsageError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { expandWord } from '../dockerfile/shell-lex.js';
import type { ParsedDockerfile } from '../dockerfile/instructions.js';
import { selectRunner } from '../exec/select.js';
import type { ProcessRunner } from '../exec/runner.js';
import { resolveRegistryImage } from '../image/registry-source.js';
import { scratchImage } from '../image/scratch.js';
import { assembleImage, imageDigest, type Image } from '../oci/image.js';
import { formatReference, parseReference, ReferenceSyntaxError } from '../oci/reference.js';
import type { Digest } from '../oci/digest.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { createSnapshotter } from '../snapshot/snapshotter.js';
import type { BuildEnv } from './build-env.js';
import { finalConfig, initialState } from './image-config.js';
import { runStage } from './stage.js';
import { createRegistryClients } from './clients.js';
import { deliver } from './outputs.js';
import { unpackBase } from './base.js';
import { globalArgValues } from '../plan/build-args.js';
import { sourceDateEpoch } from '../config/source-date-epoch.js';

export interface BuildResult {
  digest: Digest;
  pushed: string[];
}

async function readDockerfile(env: BuildEnv): Promise<{ text: string; name: string }> {
  const o = env.options;
  // Kaniko: a relative --dockerfile is tried as given, then inside the context.
  const candidates = isAbsolute(o.dockerfile) ? [o.dockerfile] : [resolve(env.cwd, o.dockerfile), resolve(env.cwd, o.contextDir, o.dockerfile)];
  for (const p of candidates) {
    try {
      if ((await stat(p)).isFile()) return { text: await readFile(p, 'utf8'), name: o.dockerfile };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(`reading the Dockerfile ${p}`, err);
    }
  }
  throw new UsageError(`Dockerfile not found: ${o.dockerfile} (looked in ${[...new Set(candidates)].join(' and ')})`);
}

function singleStage(df: ParsedDockerfile): void {
  const second = df.stages[1];
  if (second) throw new DockerfileError('multi-stage builds are not supported yet (a second FROM)', second.from.at, { source: second.from.text });
}

export async function build(env: BuildEnv): Promise<BuildResult> {
  const o = env.options;
  const { text, name } = await readDockerfile(env);
  const df = parseDockerfile(text, name);
  singleStage(df);
  const stage = df.stages[0];
  if (!stage) throw new DockerfileError('no FROM instruction: a Dockerfile must start with FROM', { file: name, line: 1, column: 1 });
  const contextDir = resolve(env.cwd, o.contextDir);
  const platform = o.platform ?? env.hostPlatform;
  const clients = createRegistryClients(env);
  const base = o.kanikoDir ?? env.tmpDir;
  await mkdir(base, { recursive: true }).catch((err: unknown) => {
    throw fsError(`creating ${base}`, err);
  });
  const work = await mkdtemp(join(base, 'kiln-build-')).catch((err: unknown) => {
    throw fsError(`creating a build directory in ${base}`, err);
  });
  try {
    if (o.push && !o.skipPushPermissionCheck) {
      for (const dest of o.destinations) await clients.push.checkPushAccess(dest.registry, dest.repository, env.signal);
    }
    const epoch = sourceDateEpoch(env.env);
    const created = (epoch ?? env.now()).toISOString();
    const globals = globalArgValues(df.globalArgs, o.buildArgs, df.directives.escape ?? '\\');
    const fromName = expandWord(stage.from.image, Object.fromEntries(globals), df.directives.escape ?? '\\');
    let baseImage: Image;
    if (fromName === 'scratch') {
      baseImage = scratchImage(platform);
    } else {
      let ref;
      try {
        ref = parseReference(fromName);
      } catch (err) {
        if (err instanceof ReferenceSyntaxError) throw new DockerfileError(`FROM: ${err.message}`, stage.from.at, { source: stage.from.text });
        throw err;
      }
      env.logger.info(`retrieving image ${formatReference(ref)}`);
      baseImage = await resolveRegistryImage(clients.pull, ref, platform, env.logger, env.signal);
    }
    const rootfs = new Rootfs(join(work, 'rootfs'));
    await mkdir(rootfs.root, { mode: 0o755 });
    const store = new BlobStore(join(work, 'blobs'));
    baseImage = await unpackBase(baseImage, rootfs, store, env.logger, env.signal);
    let runner: ProcessRunner | undefined;
    const consumed = new Set<string>();
    const out = await runStage(stage, initialState(baseImage.config, df.directives.escape ?? '\\'), {
      env,
      rootfs,
      store,
      contextDir,
      snapshotter: createSnapshotter({ rootfs, logger: env.logger, now: env.now }),
      runner: async () => {
        if (!runner) {
          runner = await selectRunner(env.env.PATH ?? '');
          env.logger.info(`RUN isolation: ${runner.mode}`);
        }
        return runner;
      },
      argScope: { buildArgs: o.buildArgs, globals, consumed },
      ...(epoch ? { clampMtime: epoch } : {}),
      created,
    });
    for (const k of o.buildArgs.keys()) {
      if (!consumed.has(k) && !df.globalArgs.some((g) => g.args.some((a) => a.name === k))) env.logger.warn(`build arg ${k} was not consumed by any ARG`);
    }
    const config = finalConfig(baseImage.config, out, o.labels, created);
    const image = assembleImage(config, [...baseImage.layers, ...out.layers]);
    const digest = imageDigest(image);
    const pushed = await deliver(image, env, clients);
    return { digest, pushed };
  } finally {
    await clients.close();
    await rm(work, { recursive: true, force: true });
  }
}
