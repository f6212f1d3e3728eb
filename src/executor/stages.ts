/**
 * Builds the planned stages in order. Each stage gets its rootfs from the build's workspace; a
 * stage's result (image and rootfs) serves later stages as a base (`FROM stage`) or a source
 * (`COPY --from`). Images named by FROM or COPY --from are pulled once per build.
 */
import { join } from 'node:path';
import type { BlobStore } from '../cache/blob-store.js';
import { currentEuid, stateDirPath } from '../cache/state-dir.js';
import { IntegrityError, StepError } from '../errors.js';
import { onbuildTriggers, withoutTriggers } from '../commands/onbuild.js';
import { secretReader } from '../commands/run-secrets.js';
import { dockerignoreFilter, type Dockerignore } from '../context/dockerignore.js';
import type { PathFilter } from '../context/path-filter.js';
import type { ProcessRunner } from '../exec/runner.js';
import { scratchSource } from '../image/scratch.js';
import { assembleImage, imageDigest, type Image, type Layer } from '../oci/image.js';
import { sourceScope, type BuildPlan, type PlannedStage } from '../plan/planner.js';
import { resolveSources } from '../plan/sources.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { createStageLayers } from './stage-layers.js';
import { ImageCache, pullRetries } from './stage-images.js';
import type { LayerTools } from '../layers/tools.js';
import { unpackBase } from './base.js';
import type { BuildEnv } from './build-env.js';
import type { RegistryClients } from './clients.js';
import { finalConfig, initialState } from './image-config.js';
import { eagerUploads } from './eager-upload.js';
import { stageSource } from './stage-source.js';
import { runStage } from './stage.js';
import { LazyRootfs } from './lazy-rootfs.js';
import { StageCache } from './stage-cache.js';
import type { CacheSession } from './cache-session.js';
import type { Workspace } from './workspace.js';

/** What a built stage gives the stages after it. */
export interface BuiltStage {
  image: Image;
  /**
   * Its files, for `COPY --from` and `RUN --mount from=`: its own directory, or for a stage built
   * in place (whose `/` the next in-place stage empties) its layers unpacked again on first use.
   */
  rootfs: () => Promise<Rootfs>;
  /** Its ARGs with their final values: a stage built `FROM` it starts with them (BuildKit). */
  args: ReadonlyMap<string, string | undefined>;
}

export interface StagesContext {
  env: BuildEnv;
  /** Everything the stages are built from: stages, bases, sources, escape character (plan/planner.ts). */
  plan: BuildPlan;
  /** Where the stages' rootfses and scratch files live (scratch, or in place over `/`). */
  workspace: Workspace;
  store: BlobStore;
  clients: RegistryClients;
  contextDir: string;
  /**
   * The context directory is the build's own (fetched, removed at the end), not the user's: a
   * build of one stage may link its files into the rootfs at their last reader (stage.ts).
   */
  contextOwned?: boolean;
  /** The context's `.dockerignore` (or `<Dockerfile>.dockerignore`) patterns; a promise while a fetched context unpacks. */
  dockerignore: Dockerignore | Promise<Dockerignore>;
  created: string;
  /** New layers' mtimes are clamped to it (SOURCE_DATE_EPOCH, --reproducible). */
  clampMtime?: Date;
  /** Host programs for layers: zstd, mknod, setfattr/getfattr (exec/layer-tools.ts). */
  layerTools: LayerTools;
  /** A runner to use instead of probing the host (in-process tests); default: `exec/select.ts` chooses. */
  runner?: ProcessRunner;
  /** The layer cache, with `--cache` (issue 15). */
  cache?: CacheSession;
}

/** What {@link buildOne} builds a stage with, besides the planned stage itself. */
interface StageBuild {
  /** Whether this is the target stage (outputs, labels, eager uploads). */
  isTarget: boolean;
  /** Whether it is built over `/` ({@link Workspace.inPlace}). */
  inPlace: boolean;
  ctx: StagesContext;
  /** Base images and `COPY --from` rootfses shared by the build's stages. */
  cache: ImageCache;
  /** The stages started so far, by index. */
  built: ReadonlyMap<number, Promise<BuiltStage>>;
  /** The context's `.dockerignore`, and compiled for `RUN --mount=type=bind`, once the context is whole. */
  contextIgnore: Promise<{ dockerignore: Dockerignore; filter: PathFilter }>;
}

async function buildOne(ps: PlannedStage, opts: StageBuild): Promise<BuiltStage> {
  const { isTarget, inPlace, ctx, cache, built, contextIgnore } = opts;
  const { env } = ctx;
  const from = ps.stage.from;
  let base: Image;
  // A stage built FROM an earlier one inherits its ARGs; one FROM an image or scratch has none.
  let inherited: ReadonlyMap<string, string | undefined> | undefined;
  const baseName =
    ps.base.kind === 'image' ? ps.base.ref : ps.base.kind === 'stage' ? `stage ${ps.base.index}` : 'scratch';
  if (ps.base.kind === 'scratch') base = await scratchSource.resolve('scratch', ps.platform, env.signal);
  else if (ps.base.kind === 'image') base = await cache.image(ps.base, ps.platform);
  else {
    base = await stageSource(built).resolve(ps.base.index, ps.platform, env.signal);
    inherited = (await built.get(ps.base.index))?.args;
  }
  env.logger.info(`building stage ${ps.stage.index}${from.stageName ? ` (${from.stageName})` : ''} FROM ${baseName}`);
  const uploads = isTarget ? eagerUploads(env, ctx.clients.push) : undefined;
  // Making an in-place rootfs empties `/`: the runner must have been chosen already (buildStages
  // does so first; this await only guards that order).
  if (inPlace) await cache.processRunner();
  const { rootfs, keep } = await ctx.workspace.stageRootfs(ps.stage.index, inPlace);
  const layers = createStageLayers({
    rootfs,
    store: ctx.store,
    logger: env.logger,
    now: env.now,
    signal: env.signal,
    tools: ctx.layerTools,
    settings: env.options,
    ...(ctx.clampMtime ? { clampMtime: ctx.clampMtime } : {}),
    ...(keep ? { keep } : {}),
    ...(isTarget && uploads ? { upload: uploads } : {}),
  });
  const pulled = {
    imageName: baseName,
    store: ctx.store,
    logger: env.logger,
    signal: env.signal,
    pullRetries: pullRetries(ctx),
  };
  // With the cache, the rootfs is brought up to date only when a step needs it (lazy-rootfs.ts);
  // --single-snapshot takes one snapshot of the whole stage, which cached steps cannot be part of.
  const session = env.options.singleSnapshot ? undefined : ctx.cache;
  const below = base.config.rootfs.diff_ids;
  const baseId = ps.base.kind === 'image' ? imageDigest(base) : ps.base.kind;
  let lazy: LazyRootfs | undefined;
  if (session && !inPlace) {
    lazy = new LazyRootfs({ ...pulled, rootfs, base, layers });
    base = lazy.base;
  } else {
    base = await unpackBase(base, rootfs, { ...pulled, helpers: layers.extraction });
    await layers.start();
  }
  const { dockerignore, filter: ignoreFilter } = await contextIgnore;
  // A base's ONBUILD triggers run first, then leave the config (BuildKit initOnBuildTriggers).
  const triggers = onbuildTriggers(base.config.config?.OnBuild, from.at, from.text);
  const stage = triggers.length > 0 ? { ...ps.stage, instructions: [...triggers, ...ps.stage.instructions] } : ps.stage;
  // Triggers are known only now: resolved with the planner's own resolver, where the stage is.
  const scope = sourceScope(ctx.plan, ps);
  const triggerSources = new Map(triggers.map((t) => [t, resolveSources(t, scope)]));
  const initial = initialState(base.config, ctx.plan.escape, inherited);
  const out = await runStage(stage, triggers.length > 0 ? withoutTriggers(initial) : initial, {
    env,
    // Steps of concurrent stages interleave in the log: say whose they are.
    ...(ctx.plan.stages.length > 1 ? { stageLabel: from.stageName ?? String(ps.stage.index) } : {}),
    rootfs,
    store: ctx.store,
    contextDir: ctx.contextDir,
    // With several stages, another may read the context after this one's last reader.
    ...(ctx.contextOwned === true && ctx.plan.stages.length === 1 ? { ownsContext: true } : {}),
    dockerignore,
    snapshotter: layers.snapshotter,
    layers,
    runner: () => cache.processRunner(),
    trustedCas: ctx.clients.trustedCas,
    planned: (ins) => ps.sources.get(ins) ?? triggerSources.get(ins) ?? {},
    fromSource: async ({ value, source: src }) => {
      if (src.kind === 'image') return cache.rootfsOf(src, ps.platform);
      const stage = built.get(src.index);
      // Only a base image's ONBUILD trigger can name a stage the plan left out.
      if (!stage)
        throw new StepError(`--from=${value}: stage ${src.index} was not built (is it excluded by --target?)`, from.at);
      return (await stage).rootfs();
    },
    argScope: { buildArgs: env.options.buildArgs, globals: ctx.plan.globals },
    created: ctx.created,
    below,
    ...(session
      ? {
          cache: new StageCache({
            session,
            platform: ps.platform,
            base: baseId,
            stageName: from.stageName ?? String(ps.stage.index),
            logger: env.logger,
            signal: env.signal,
            now: env.now,
            ...(ctx.plan.stages.length > 1 ? { fields: { stage: from.stageName ?? String(ps.stage.index) } } : {}),
          }),
          keepLocal: outputsRead(env.options),
        }
      : {}),
    ...(lazy ? { lazy } : {}),
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
      scratchDir: ctx.workspace.runMountsDir,
      secret: secretReader(env.options.secrets, env.env, env.cwd),
      contextIgnore: ignoreFilter,
    },
  });
  const config = finalConfig(base.config, out, isTarget ? env.options.labels : new Map(), ctx.created);
  const image = assembleImage(config, [...base.layers, ...out.layers]);
  const label = `stage ${ps.stage.index}`;
  const files = inPlace
    ? () => cache.unpacked(label, from.stageName ?? label, () => Promise.resolve(image))
    : lazy
      ? async () => {
          // Its cached layers come in when a later stage reads its files.
          const bad = await lazy.bring(out.pending);
          if (bad !== undefined)
            throw new IntegrityError(`${out.pending[bad]?.name ?? 'a cached layer'} of ${label} is corrupt`, {
              hint: 'build again: the step is then built instead of taken from the cache',
            });
          return rootfs;
        }
      : () => Promise.resolve(rootfs);
  return { image, rootfs: files, args: out.state.args };
}

/**
 * Whether the outputs will read a cached layer's bytes: they write a tarball or a layout, or push
 * to a registry other than the one the layer is in (a push to the same registry mounts it).
 */
function outputsRead(o: BuildEnv['options']): (layer: Layer) => boolean {
  const files = o.tarPath !== undefined || o.ociLayoutPath !== undefined;
  return (layer) => {
    if (files) return true;
    if (!o.push) return false;
    return o.destinations.some((d) => d.registry !== layer.origin?.registry);
  };
}

/**
 * Builds every planned stage; returns the target's image. Stages run concurrently, as BuildKit
 * runs them: each waits only for what it uses of an earlier stage (its base, a `COPY --from`, a
 * `RUN --mount from=`), when it gets there, so independent stages overlap their pulls, extractions
 * and RUNs. The first failure stops the others and is the one reported. A stage built in place
 * starts after every stage before it is done, since it empties `/` ({@link Workspace.inPlace}).
 */
export async function buildStages(ctx: StagesContext): Promise<Image> {
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.env.signal, stop.signal]);
  const sctx: StagesContext = { ...ctx, env: { ...ctx.env, signal } };
  const cache = new ImageCache(sctx);
  // Compiled once for the build: RUN --mount=type=bind of the context shows only what it keeps.
  // A fetched context unpacks while the bases are pulled (issue 14); each stage waits for it before
  // its first step. A local one's malformed pattern fails the build at once, as the Docker CLI's.
  const compile = (d: Dockerignore): { dockerignore: Dockerignore; filter: PathFilter } => ({
    dockerignore: d,
    filter: dockerignoreFilter(d),
  });
  const di = ctx.dockerignore;
  const contextIgnore = di instanceof Promise ? di.then(compile) : Promise.resolve(compile(di));
  contextIgnore.catch(() => undefined); // awaited by every stage; never unhandled meanwhile
  const kinds = ctx.plan.stages.map((ps, i) => ({
    isTarget: i === ctx.plan.stages.length - 1,
    hasRun: ps.stage.instructions.some((ins) => ins.kind === 'RUN'),
  }));
  const inPlace = kinds.map((k) => ctx.workspace.inPlace(k));
  // The isolation is chosen and logged at the start (next to the in-place mode) when a stage
  // has a RUN. The probe runs while the base is pulled; a failure surfaces at the first RUN.
  // In place it is chosen before any stage starts, while the container's own programs are still
  // there: the probe and the host tools it finds (unshare, sh) must not be the base image's.
  if (inPlace.some(Boolean)) await cache.processRunner();
  // With the layer cache, a RUN may never run: the runner is then chosen at the first one that does.
  else if (kinds.some((k) => k.hasRun) && !ctx.cache) cache.processRunner().catch(() => undefined);
  const built = new Map<number, Promise<BuiltStage>>();
  const all: Promise<BuiltStage>[] = [];
  for (const [i, ps] of ctx.plan.stages.entries()) {
    const isTarget = kinds[i]?.isTarget ?? false;
    const here = inPlace[i] ?? false;
    const before = here ? Promise.allSettled(all) : Promise.resolve();
    const p = before.then(() => buildOne(ps, { isTarget, inPlace: here, ctx: sctx, cache, built, contextIgnore }));
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
