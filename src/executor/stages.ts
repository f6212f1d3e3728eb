/**
 * Builds the planned stages in order. Each stage gets its own rootfs; a stage's result (image
 * and rootfs) serves later stages as a base (`FROM stage`) or a source (`COPY --from`). Images
 * named by FROM or COPY --from are pulled once per build.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../cache/blob-store.js';
import { currentEuid, stateDirPath } from '../cache/state-dir.js';
import { DockerfileError, StepError } from '../errors.js';
import { onbuildTriggers, withoutTriggers } from '../commands/onbuild.js';
import { secretReader } from '../commands/run-secrets.js';
import type { ParsedDockerfile } from '../dockerfile/instructions.js';
import { dockerignoreFilter, type Dockerignore } from '../context/dockerignore.js';
import type { PathFilter } from '../context/path-filter.js';
import { selectRunner } from '../exec/select.js';
import type { ProcessRunner } from '../exec/runner.js';
import type { ImageSource } from '../image/image-source.js';
import { registrySource } from '../image/registry-source.js';
import { scratchSource } from '../image/scratch.js';
import { assembleImage, type Image } from '../oci/image.js';
import { formatPlatform, type Platform } from '../oci/platform.js';
import { formatReference, parseReference, ReferenceSyntaxError, type Reference } from '../oci/reference.js';
import { copySource, type BuildPlan, type PlannedStage } from '../plan/planner.js';
import { clearRootfs } from '../rootfs/clear.js';
import { detectContainer } from '../rootfs/container.js';
import { readContainerFacts } from '../rootfs/host-facts.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { createStageLayers } from './stage-layers.js';
import type { LayerTools } from '../layers/tools.js';
import { unpackBase } from './base.js';
import type { BuildEnv } from './build-env.js';
import type { RegistryClients } from './clients.js';
import { finalConfig, initialState } from './image-config.js';
import { eagerUploads } from './eager-upload.js';
import { stageSource } from './stage-source.js';
import { runStage } from './stage.js';

export interface BuiltStage {
  image: Image;
  rootfs: Rootfs;
}

export interface StagesContext {
  env: BuildEnv;
  df: ParsedDockerfile;
  plan: BuildPlan;
  work: string;
  store: BlobStore;
  clients: RegistryClients;
  contextDir: string;
  /** The context's `.dockerignore` (or `<Dockerfile>.dockerignore`) patterns. */
  dockerignore: Dockerignore;
  created: string;
  /** New layers' mtimes are clamped to it (SOURCE_DATE_EPOCH, --reproducible). */
  clampMtime?: Date;
  /** Host programs for layers: zstd, mknod, setfattr/getfattr (exec/layer-tools.ts). */
  layerTools: LayerTools;
  /** `--rootfs=/`, admitted: the target stage is built over `/`, keeping these paths as they are. */
  inPlace?: { mode: string; keep: readonly string[] };
  /** A runner to use instead of probing the host (in-process tests); default: `exec/select.ts` chooses. */
  runner?: ProcessRunner;
}

/** Pulls images on first use (FROM and COPY --from share them) and unpacks them on demand. */
class ImageCache {
  private readonly images = new Map<string, Promise<Image>>();
  private readonly rootfses = new Map<string, Promise<Rootfs>>();
  private runner: Promise<ProcessRunner> | undefined;
  private readonly registry: ImageSource<Reference>;

  constructor(private readonly ctx: StagesContext) {
    this.registry = registrySource({
      client: ctx.clients.pull,
      logger: ctx.env.logger,
      policy: ctx.clients.pullPolicy,
    });
  }

  image(ref: string, platform: Platform, at: PlannedStage['stage']['from']['at'], source: string): Promise<Image> {
    const key = `${ref}|${formatPlatform(platform)}`;
    let got = this.images.get(key);
    if (!got) {
      let parsed;
      try {
        parsed = parseReference(ref);
      } catch (err) {
        if (err instanceof ReferenceSyntaxError) throw new DockerfileError(err.message, at, { source });
        throw err;
      }
      const env = this.ctx.env;
      env.logger.info(`retrieving image ${formatReference(parsed)}`, { platform: formatPlatform(platform) });
      got = this.registry.resolve(parsed, platform, env.signal);
      this.images.set(key, got);
    }
    return got;
  }

  /** The unpacked filesystem of an image used by `COPY --from=<image>`. */
  rootfsOf(ref: string, platform: Platform, at: PlannedStage['stage']['from']['at'], source: string): Promise<Rootfs> {
    const key = `${ref}|${formatPlatform(platform)}`;
    let got = this.rootfses.get(key);
    if (!got) {
      got = (async () => {
        const rootfs = new Rootfs(join(this.ctx.work, `image-${this.rootfses.size}`));
        await mkdir(rootfs.root, { mode: 0o755 });
        await unpackBase(await this.image(ref, platform, at, source), rootfs, {
          imageName: ref,
          store: this.ctx.store,
          logger: this.ctx.env.logger,
          signal: this.ctx.env.signal,
          helpers: this.ctx.layerTools,
        });
        return rootfs;
      })();
      this.rootfses.set(key, got);
    }
    return got;
  }

  processRunner(): Promise<ProcessRunner> {
    const env = this.ctx.env.env;
    const inContainer = async (): Promise<boolean> => detectContainer(await readContainerFacts(env)).inContainer;
    const choose = (): Promise<ProcessRunner> =>
      this.ctx.runner
        ? Promise.resolve(this.ctx.runner)
        : selectRunner({ path: env.PATH ?? '', workDir: this.ctx.work, inContainer });
    this.runner ??= choose().then((r) => {
      this.ctx.env.logger.info(`RUN isolation: ${r.mode} (${r.reason})`);
      if (this.ctx.inPlace) this.ctx.env.logger.info(this.ctx.inPlace.mode);
      return r;
    });
    return this.runner;
  }
}

/** What {@link buildOne} builds a stage with, besides the planned stage itself. */
interface StageBuild {
  /** Whether this is the target stage (outputs, labels, eager uploads, in-place rootfs). */
  isTarget: boolean;
  ctx: StagesContext;
  /** Base images and `COPY --from` rootfses shared by the build's stages. */
  cache: ImageCache;
  /** The stages started so far, by index. */
  built: ReadonlyMap<number, Promise<BuiltStage>>;
  /** The context's `.dockerignore`, for `RUN --mount=type=bind`. */
  contextIgnore: PathFilter;
}

async function buildOne(ps: PlannedStage, opts: StageBuild): Promise<BuiltStage> {
  const { isTarget, ctx, cache, built, contextIgnore } = opts;
  const { env, df } = ctx;
  const from = ps.stage.from;
  let base: Image;
  const baseName =
    ps.base.kind === 'image' ? ps.base.ref : ps.base.kind === 'stage' ? `stage ${ps.base.index}` : 'scratch';
  if (ps.base.kind === 'scratch') base = await scratchSource.resolve('scratch', ps.platform, env.signal);
  else if (ps.base.kind === 'image') base = await cache.image(ps.base.ref, ps.platform, from.at, from.text);
  else base = await stageSource(built).resolve(ps.base.index, ps.platform, env.signal);
  env.logger.info(`building stage ${ps.stage.index}${from.stageName ? ` (${from.stageName})` : ''} FROM ${baseName}`);
  const uploads = isTarget ? eagerUploads(env, ctx.clients.push) : undefined;
  const inPlace = isTarget ? ctx.inPlace : undefined;
  const rootfs = inPlace
    ? await inPlaceRootfs(inPlace.keep, ctx, cache)
    : new Rootfs(join(ctx.work, `stage-${ps.stage.index}`), env.ownership);
  if (!inPlace) await mkdir(rootfs.root, { mode: 0o755 });
  const layers = createStageLayers({
    rootfs,
    store: ctx.store,
    logger: env.logger,
    now: env.now,
    signal: env.signal,
    tools: ctx.layerTools,
    settings: env.options,
    ...(ctx.clampMtime ? { clampMtime: ctx.clampMtime } : {}),
    ...(inPlace ? { keep: inPlace.keep } : {}),
    ...(isTarget && uploads ? { upload: uploads } : {}),
  });
  base = await unpackBase(base, rootfs, {
    imageName: baseName,
    store: ctx.store,
    logger: env.logger,
    signal: env.signal,
    helpers: layers.extraction,
  });
  await layers.start();
  // A base's ONBUILD triggers run first, then leave the config (BuildKit initOnBuildTriggers).
  const triggers = onbuildTriggers(base.config.config?.OnBuild, from.at, from.text);
  const stage = triggers.length > 0 ? { ...ps.stage, instructions: [...triggers, ...ps.stage.instructions] } : ps.stage;
  const initial = initialState(base.config, df.escape);
  const out = await runStage(stage, triggers.length > 0 ? withoutTriggers(initial) : initial, {
    env,
    // Steps of concurrent stages interleave in the log: say whose they are.
    ...(ctx.plan.stages.length > 1 ? { stageLabel: from.stageName ?? String(ps.stage.index) } : {}),
    rootfs,
    store: ctx.store,
    contextDir: ctx.contextDir,
    dockerignore: ctx.dockerignore,
    snapshotter: layers.snapshotter,
    layers,
    runner: () => cache.processRunner(),
    fromSource: async (value) => {
      const src = copySource(df.stages, value, ps.stage.index);
      if (src.kind === 'image') return cache.rootfsOf(src.ref, ps.platform, from.at, from.text);
      const stage = built.get(src.index);
      if (!stage)
        throw new StepError(`--from=${value}: stage ${src.index} was not built (is it excluded by --target?)`, from.at);
      return (await stage).rootfs;
    },
    argScope: { buildArgs: env.options.buildArgs, globals: ctx.plan.globals },
    created: ctx.created,
    runMounts: {
      cacheRoot: join(
        stateDirPath({
          kanikoDir: env.options.kanikoDir,
          cwd: env.cwd,
          env: env.env,
          homeDir: env.homeDir,
          euid: currentEuid(),
        }),
        'cache',
        'run-mounts',
      ),
      scratchDir: join(ctx.work, 'run-mounts'),
      secret: secretReader(env.options.secrets, env.env, env.cwd),
      contextIgnore,
    },
  });
  const config = finalConfig(base.config, out, isTarget ? env.options.labels : new Map(), ctx.created);
  return { image: assembleImage(config, [...base.layers, ...out.layers]), rootfs };
}

/**
 * `--rootfs=/`: the target stage's rootfs is `/` itself, emptied of everything but the kept paths
 * (mount points, --kaniko-dir, the context, Kiln's own files, --ignore-paths) before its base is
 * unpacked there, as Kaniko does. Only the target: earlier stages keep their own directories under
 * the work dir, so `COPY --from` reads them as they were and nothing is extracted twice — where
 * Kaniko wipes `/` between stages and has to save each stage's files aside first.
 */
async function inPlaceRootfs(keep: readonly string[], ctx: StagesContext, cache: ImageCache): Promise<Rootfs> {
  // Chosen while the container's own programs are still there: the probe and the host tools it
  // finds (unshare, sh) must not be the base image's.
  await cache.processRunner();
  const rootfs = new Rootfs('/');
  const removed = clearRootfs(rootfs, keep);
  ctx.env.logger.info(`in-place: cleared / for the base image (${removed} paths removed, ${keep.length} kept)`, {
    kept: keep.join(' '),
  });
  return rootfs;
}

/**
 * Builds every planned stage; returns the target's image. Stages run concurrently, as BuildKit
 * runs them: each waits only for what it uses of an earlier stage (its base, a `COPY --from`, a
 * `RUN --mount from=`), when it gets there, so independent stages overlap their pulls, extractions
 * and RUNs. The first failure stops the others and is the one reported. An in-place target starts
 * after every other stage is done, since it empties `/`.
 */
export async function buildStages(ctx: StagesContext): Promise<Image> {
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.env.signal, stop.signal]);
  const sctx: StagesContext = { ...ctx, env: { ...ctx.env, signal } };
  const cache = new ImageCache(sctx);
  // Compiled once for the build: RUN --mount=type=bind of the context shows only what it keeps.
  const contextIgnore = dockerignoreFilter(ctx.dockerignore);
  // The isolation is chosen and logged at the start (next to the in-place mode) when a stage
  // has a RUN. The probe runs while the base is pulled; a failure surfaces at the first RUN.
  if (ctx.inPlace) await cache.processRunner();
  else if (ctx.plan.stages.some((ps) => ps.stage.instructions.some((i) => i.kind === 'RUN')))
    cache.processRunner().catch(() => undefined);
  const built = new Map<number, Promise<BuiltStage>>();
  const all: Promise<BuiltStage>[] = [];
  for (const [i, ps] of ctx.plan.stages.entries()) {
    const isTarget = i === ctx.plan.stages.length - 1;
    const before = isTarget && ctx.inPlace ? Promise.allSettled(all) : Promise.resolve();
    const p = before.then(() => buildOne(ps, { isTarget, ctx: sctx, cache, built, contextIgnore }));
    // The first failure stops the rest, and is the abort's reason.
    p.catch((error: unknown) => {
      if (!stop.signal.aborted) stop.abort(error);
    });
    built.set(ps.stage.index, p);
    all.push(p);
  }
  // Every stage has stopped before the build's scratch directory may go.
  const results = await Promise.allSettled(all);
  if (stop.signal.aborted) throw stop.signal.reason;
  const last = results.at(-1);
  if (last?.status !== 'fulfilled') throw new Error('the plan has no stage');
  return last.value.image;
}
