/**
 * Runs a stage's instructions in order against its rootfs: each handler returns the new stage
 * state and what it changed; changes become a layer, and every instruction a history entry
 * (`empty_layer` where nothing changed, ARCHITECTURE.md §5).
 */
import type { Stage, StageInstruction } from '../dockerfile/instructions.js';
import type { BlobStore } from '../cache/blob-store.js';
import { arg, type ArgScope } from '../commands/arg.js';
import { cmd, entrypoint } from '../commands/command-form.js';
import type { DownloadPolicy } from '../commands/add-url.js';
import { copy } from '../commands/copy.js';
import { env } from '../commands/env.js';
import { expose } from '../commands/expose.js';
import { label } from '../commands/label.js';
import { maintainer, shell, stopsignal } from '../commands/misc.js';
import { healthcheck } from '../commands/healthcheck.js';
import { onbuild } from '../commands/onbuild.js';
import { run } from '../commands/run.js';
import type { RunMountEnv } from '../commands/run-mounts.js';
import type { StageState, StepContext, StepResult } from '../commands/step.js';
import { user } from '../commands/user.js';
import { volume } from '../commands/volume.js';
import { workdir } from '../commands/workdir.js';
import type { ProcessRunner } from '../exec/runner.js';
import { PROXY_ARGS } from '../plan/platform-args.js';
import type { ResolvedFrom, StepSources } from '../plan/sources.js';
import type { MountSyntax } from '../dockerfile/mount-spec.js';
import { DEFAULT_RETRIES } from '../registry/client.js';
import { redactUrls } from '../registry/redact.js';
import { DEFAULT_TIMEOUTS } from '../registry/network-error.js';
import { realSleep } from '../registry/retry.js';
import type { StageLayers } from './stage-layers.js';
import type { Layer } from '../oci/image.js';
import type { HistoryEntry } from '../oci/schemas.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { Dockerignore } from '../context/dockerignore.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import type { BuildEnv } from './build-env.js';
import { createdBy } from './created-by.js';
import type { LazyRootfs, PendingLayer } from './lazy-rootfs.js';
import type { StageCache } from './stage-cache.js';

export interface StageDeps {
  env: BuildEnv;
  /** In a build of several stages, the stage's name (or index), added to its step log lines. */
  stageLabel?: string;
  rootfs: Rootfs;
  store: BlobStore;
  contextDir: string;
  /** The build context's `.dockerignore` patterns, which COPY and ADD honour. */
  dockerignore: Dockerignore;
  /**
   * The context directory is the build's own fetched copy and no other stage reads it: the
   * stage's last instruction that reads it may take its files ({@link lastContextReader}).
   */
  ownsContext?: boolean;
  /** RUN's snapshotter; none under --single-snapshot (see {@link StageLayers.snapshotter}). */
  snapshotter: Snapshotter | undefined;
  /** Turns each step's changes into a layer, per the layer flags (--single-snapshot: one at the end). */
  layers: StageLayers;
  /** The process runner, chosen on first use (a build without RUN never probes). */
  runner: () => Promise<ProcessRunner>;
  argScope: ArgScope;
  /** What the plan resolved for an instruction: its COPY/ADD `--from`, its RUN `--mount`s (plan/sources.ts). */
  planned: (ins: StageInstruction) => StepSources;
  /** The rootfs of the stage or image a `--from` names (an earlier stage, or an image pulled for it). */
  fromSource: (from: ResolvedFrom) => Promise<Rootfs>;
  /** Timestamp written into history entries. */
  created: string;
  /** CA certificates `ADD <url>` trusts besides Node's roots, as the registry clients do (SSL_CERT_DIR). */
  trustedCas?: readonly string[];
  /** Where `RUN --mount=type=cache` keeps its directories, this build's scratch dir, `--secret` values, and the context's `.dockerignore` filter. */
  runMounts: Pick<RunMountEnv, 'cacheRoot' | 'scratchDir' | 'secret' | 'contextIgnore'>;
  /** The layer cache, when `--cache` is on and the stage can use it. */
  cache?: StageCache;
  /** The rootfs brought up to date before each step that needs it; without one it is always up to date. */
  lazy?: LazyRootfs;
  /** The base's diffIDs, bottom first: the start of every step's `below` key part. */
  below?: readonly string[];
  /** Whether the outputs will read a cached layer's bytes (no registry they can be mounted in). */
  keepLocal?: (layer: Layer) => boolean;
}

export interface StageOutput {
  state: StageState;
  layers: Layer[];
  history: HistoryEntry[];
  /** Cached layers of the stage not in its rootfs yet: a reader of the stage's files brings them first. */
  pending: PendingLayer[];
}

/** The instruction's handler: metadata handlers need the state only, filesystem handlers the step context. */
async function dispatch(
  ins: StageInstruction,
  state: StageState,
  ctx: StepContext,
  scope: ArgScope,
): Promise<StepResult> {
  switch (ins.kind) {
    case 'ENV':
      return env(ins, state);
    case 'LABEL':
      return label(ins, state);
    case 'ARG':
      return arg(ins, state, scope);
    case 'USER':
      return user(ins, state);
    case 'CMD':
      return cmd(ins, state);
    case 'ENTRYPOINT':
      return entrypoint(ins, state);
    case 'EXPOSE':
      return expose(ins, state);
    case 'STOPSIGNAL':
      return stopsignal(ins, state);
    case 'VOLUME':
      return volume(ins, state, ctx);
    case 'SHELL':
      return shell(ins, state);
    case 'MAINTAINER':
      return maintainer(ins, state);
    case 'WORKDIR':
      return workdir(ins, state, ctx);
    case 'COPY':
    case 'ADD':
      return copy(ins, state, ctx);
    case 'RUN':
      return run(ins, state, ctx);
    case 'HEALTHCHECK':
      return healthcheck(ins, state);
    case 'ONBUILD':
      return onbuild(ins, state);
  }
}

/** What every filesystem step of the stage may use; `at` is set for each instruction. */
function stepContext(deps: StageDeps): Omit<StepContext, 'at' | 'planned'> {
  const e = deps.env;
  return {
    logger: e.logger,
    signal: e.signal,
    rootfs: deps.rootfs,
    contextDir: deps.contextDir,
    dockerignore: deps.dockerignore,
    fromSource: deps.fromSource,
    env: e.env,
    tmpDir: e.tmpDir,
    now: e.now,
    ...downloadPolicy(e.options.networkTimeoutMs, deps.trustedCas),
    runner: deps.runner,
    output: e.stepOutput,
    snapshotter: deps.snapshotter,
    proxyArgs: proxyArgsOf(deps.argScope.buildArgs),
    runMounts: deps.runMounts,
  };
}

/**
 * `--network-timeout` for `ADD <url>` and an http(s) context (the same value for all three timeouts) and the extra CAs,
 * as for the registry clients.
 */
export function downloadPolicy(ms: number | undefined, trustedCas?: readonly string[]): { download?: DownloadPolicy } {
  const trust = trustedCas !== undefined && trustedCas.length > 0 ? { trustedCas } : {};
  if (ms === undefined && !('trustedCas' in trust)) return {};
  const timeouts = ms === undefined ? DEFAULT_TIMEOUTS : { connectMs: ms, headersMs: ms, bodyMs: ms };
  return { download: { timeouts, retries: DEFAULT_RETRIES, sleep: realSleep, ...trust } };
}

function proxyArgsOf(buildArgs: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...buildArgs].filter(([k]) => PROXY_ARGS.includes(k)));
}

/** Whether a RUN mount shows the build context: a bind (the default type) without `from`, or a type only expansion tells. */
function bindsContext(m: MountSyntax<ResolvedFrom>): boolean {
  const type = [...m.fields].reverse().find((f) => f.key === 'type')?.value ?? 'bind';
  return m.from === undefined && !['cache', 'tmpfs', 'secret', 'ssh'].includes(type);
}

/**
 * The index of the last instruction of `instructions` that reads the build context (COPY or ADD
 * without `--from`, counted even where its source turns out to be a URL; RUN with a bind mount
 * without `from`), or -1. After it, nothing of the stage reads the context again.
 */
export function lastContextReader(
  instructions: readonly StageInstruction[],
  planned: (ins: StageInstruction) => StepSources,
): number {
  const reads = (ins: StageInstruction): boolean => {
    const p = planned(ins);
    if (ins.kind === 'COPY' || ins.kind === 'ADD') return p.from === undefined;
    return ins.kind === 'RUN' && (p.mounts ?? []).some(bindsContext);
  };
  for (let i = instructions.length - 1; i >= 0; i--) if (reads(instructions[i] as StageInstruction)) return i;
  return -1;
}

/** Instructions that read or write the rootfs: the lazy rootfs must be up to date before they run. */
const FS_KINDS = new Set<StageInstruction['kind']>(['RUN', 'COPY', 'ADD', 'WORKDIR', 'VOLUME']);

/** Where the stage stood before a step: what a rebuilt step starts again from. */
interface Mark {
  state: StageState;
  layers: number;
}

/** A cached layer taken for step `step`, not in the rootfs yet. */
interface Pending extends PendingLayer {
  step: number;
}

/** Runs every instruction of `stage` from `initial`, returning the final state, new layers and history. */
export async function runStage(stage: Stage, initial: StageState, deps: StageDeps): Promise<StageOutput> {
  let state = initial;
  const layers: Layer[] = [];
  /** What each of `layers` is in the keys of the steps above it (see below). */
  const chain: string[] = [];
  const history: HistoryEntry[] = [];
  const total = stage.instructions.length;
  const ctx = stepContext(deps);
  const fields = deps.stageLabel === undefined ? undefined : { stage: deps.stageLabel };
  // A fetched context nothing else reads: its last reader links the files it copies (copy-in.ts
  // takeSources) instead of creating each a second time; later changes to them reach no reader.
  const taker = deps.ownsContext === true ? lastContextReader(stage.instructions, deps.planned) : -1;
  const { cache, lazy } = deps;
  const marks: Mark[] = [];
  // Steps whose cached layer turned out corrupt: built this time.
  const rebuild = new Set<number>();
  let pending: Pending[] = [];
  /** Back to step `j`, whose cached layer could not be used: the steps from it on run again. */
  const rewind = (j: number, kept: Pending[]): number => {
    const mark = marks[j] as Mark;
    rebuild.add(j);
    state = mark.state;
    layers.length = mark.layers;
    chain.length = mark.layers;
    history.length = j;
    pending = kept;
    return j;
  };
  let i = 0;
  for (;;) {
    while (i < total) {
      const ins = stage.instructions[i] as StageInstruction;
      deps.env.signal.throwIfAborted();
      marks[i] = { state, layers: layers.length };
      // An `ADD <url>` may carry a password or a signed query: the log shows neither.
      deps.env.logger.info(`[${i + 1}/${total}] ${redactUrls(ins.text)}`, fields);
      const before = state;
      const step = { ...ctx, at: ins.at, planned: deps.planned(ins), ...(i === taker ? { takeContext: true } : {}) };
      // Every step the cache can key is keyed, looked up only where the flags cache it. The layers
      // below a step enter its key by content (diffIDs), except those of steps that ran outside
      // the cache (COPY without --cache-copy-layers): their layers carry the build's time, so they
      // enter by their own key, as Kaniko chains every key on the one before.
      const k =
        cache?.keyable(ins) === true && !deps.layers.deferring
          ? await cache.key(ins, state, step, [...(deps.below ?? []), ...chain])
          : undefined;
      const cached = k !== undefined && cache?.cacheable(ins) === true;
      const entry = cached && !rebuild.has(i) ? await cache.lookup(k) : undefined;
      let added: boolean;
      if (entry) {
        added = entry.layer !== undefined;
        if (ins.kind === 'WORKDIR')
          state = { ...state, config: { ...state.config, WorkingDir: entry.config.WorkingDir } };
        if (entry.layer) {
          layers.push(entry.layer);
          chain.push(entry.layer.diffId);
          pending.push({ step: i, layer: entry.layer, name: `the cached layer of step ${i + 1} (${ins.text})` });
        }
      } else {
        if (lazy && FS_KINDS.has(ins.kind)) {
          const bad = await lazy.bring(pending);
          if (bad !== undefined) {
            i = rewind((pending[bad] as Pending).step, []);
            continue;
          }
          pending = [];
        }
        const result = await dispatch(ins, state, step, deps.argScope);
        state = result.state;
        const layer = await deps.layers.step(result);
        if (layer) {
          layers.push(layer);
          chain.push(k === undefined || cached ? layer.diffId : k.key.digest);
          deps.env.logger.debug('layer added', { digest: layer.descriptor.digest, size: layer.descriptor.size });
        }
        if (cached) cache?.store(k, layer, state.config);
        added = layer !== undefined;
      }
      history.push({
        created: deps.created,
        created_by: createdBy(ins, before, state),
        ...(added ? {} : { empty_layer: true }),
      });
      i++;
    }
    // Cached layers the outputs will read (they cannot be mounted there) are fetched now, verified:
    // a corrupt one is built instead.
    const needed = pending.filter((p) => deps.keepLocal?.(p.layer) === true);
    const bad = lazy && needed.length > 0 ? await lazy.fetch(needed) : undefined;
    if (bad === undefined) break;
    const failed = needed[bad] as Pending;
    i = rewind(
      failed.step,
      pending.filter((p) => p.step < failed.step),
    );
  }
  // --single-snapshot: the stage's one layer, credited to its last instruction as Kaniko does.
  const single = await deps.layers.finish();
  const last = history.at(-1);
  if (single && last) {
    layers.push(single);
    delete last.empty_layer;
  }
  return { state, layers, history, pending };
}
