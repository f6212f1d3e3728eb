/**
 * The layer cache as a stage sees it (issue 15, ARCHITECTURE.md §5 "Layer cache keys"): which
 * steps may come from the cache, each step's key, the lookup with its log line (`cache hit` or
 * `cache miss` and the key's short digest; at debug, why it missed), and storing what a step built
 * in the background, as soon as it is built. The stage builder (stage.ts) decides what a hit or a
 * miss does to the rootfs.
 *
 * Kaniko caches RUN (`--cache-run-layers`, default on), COPY/ADD (`--cache-copy-layers`, default
 * off) and WORKDIR, whose layer is the directory it makes. A lookup or store that fails is a miss
 * or a lost entry with a warning, never a failed build.
 */
import type { StageInstruction } from '../dockerfile/instructions.js';
import { entryTag, isExpired, locatorTag } from '../cache/cache-entry.js';
import type { CacheEntry } from '../cache/layer-cache.js';
import { changedParts, stepKey, type StepKey } from '../cache/step-key.js';
import { copySourcesDigest } from '../commands/copy-digest.js';
import { runMountsKey } from '../commands/run-mount-digest.js';
import { runMountSpecs } from '../commands/run-mount-spec.js';
import { DEFAULT_SHELL, type StageState, type StepContext } from '../commands/step.js';
import type { Logger, LogFields } from '../log.js';
import type { Layer } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';
import { formatPlatform } from '../oci/platform.js';
import type { ContainerConfig } from '../oci/schemas.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

import type { CacheSession } from './cache-session.js';

/** One stage's view of the cache. */
export interface StageCacheOptions {
  session: CacheSession;
  platform: Platform;
  /** The stage's base: its manifest digest, `scratch`, or `stage` (an earlier stage: its layers' diffIDs say what it is). */
  base: string;
  /** The stage's name or index, in locators (two stages with the same instruction keep their own newest entry). */
  stageName: string;
  logger: Logger;
  signal: AbortSignal;
  now: () => Date;
  /** Fields added to every log line (the stage label of a multi-stage build). */
  fields?: LogFields;
}

/** A cacheable step's key and locator. */
export interface StepCacheKey {
  key: StepKey;
  locator: string;
}

/** `$NAME` and `${NAME…}` references in an instruction's text. */
function referenced(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''));
}

/** What the cache does for one stage (see the module comment). */
export class StageCache {
  constructor(private readonly o: StageCacheOptions) {}

  /** Whether `ins` has a key: RUN, COPY, ADD and WORKDIR, whatever the flags. */
  keyable(ins: StageInstruction): boolean {
    return ['RUN', 'COPY', 'ADD', 'WORKDIR'].includes(ins.kind);
  }

  /** Whether `ins` may come from the cache, per `--cache-run-layers` and `--cache-copy-layers`. */
  cacheable(ins: StageInstruction): boolean {
    const f = this.o.session.options;
    if (ins.kind === 'RUN') return f.runLayers;
    if (ins.kind === 'COPY' || ins.kind === 'ADD') return f.copyLayers;
    return ins.kind === 'WORKDIR';
  }

  /**
   * The key of `ins` about to run in `state` on the layers `below`; undefined when its inputs
   * cannot be known without running it (ADD of a URL or a git repository).
   */
  async key(
    ins: StageInstruction,
    state: StageState,
    ctx: StepContext,
    below: readonly string[],
  ): Promise<StepCacheKey | undefined> {
    const c = state.config;
    // A RUN sees every variable in scope; other steps only through the words they expand.
    const vars = ins.kind === 'RUN' ? undefined : referenced(ins.text);
    const env = [
      ...[...state.args].flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
      ...(c.Env ?? []),
    ].filter((kv) => vars === undefined || vars.has(kv.split('=', 1)[0] ?? ''));
    let sources: string | undefined;
    let mounts: string[] | undefined;
    if (ins.kind === 'COPY' || ins.kind === 'ADD') {
      sources = await copySourcesDigest(ins, state, ctx);
      if (sources === undefined) return undefined;
    } else if (ins.kind === 'RUN') {
      const specs = runMountSpecs(ins, state, ctx.planned.mounts ?? []);
      mounts = await runMountsKey(specs, {
        contextDir: ctx.contextDir,
        contextIgnore: ctx.runMounts.contextIgnore,
        fromSource: ctx.fromSource,
      });
    }
    const platform = formatPlatform(this.o.platform);
    const key = stepKey({
      platform,
      base: this.o.base,
      below,
      step: ins.text,
      env,
      user: c.User ?? '',
      workdir: c.WorkingDir ?? '',
      shell: c.Shell ?? DEFAULT_SHELL,
      ...(sources !== undefined ? { sources } : {}),
      ...(mounts !== undefined ? { mounts } : {}),
    });
    return { key, locator: locatorTag([platform, this.o.stageName, ins.text]) };
  }

  /** The entry of `k`, or undefined (a miss, logged with its reason at debug). */
  async lookup(k: StepCacheKey): Promise<CacheEntry | undefined> {
    const { logger, signal } = this.o;
    const { cache, options } = this.o.session;
    const short = entryTag(k.key).slice(0, 12);
    let entry: CacheEntry | undefined;
    try {
      entry = await cache.get(k.key, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      logger.warn(
        `cache entry ${short} in ${cache.where} cannot be read, building the step: ${message(err)}`,
        this.o.fields,
      );
    }
    if (entry && isExpired(entry.created, options.ttlMs, this.o.now())) {
      logger.info(`cache miss ${short}`, this.o.fields);
      logger.debug(
        `cache entry ${short} expired (made ${entry.created ?? 'at an unknown time'}, --cache-ttl)`,
        this.o.fields,
      );
      return undefined;
    }
    if (entry) {
      logger.info(`cache hit ${short}`, {
        ...this.o.fields,
        ...(entry.layer ? { layer: entry.layer.descriptor.digest } : {}),
      });
      return entry;
    }
    logger.info(`cache miss ${short}`, this.o.fields);
    if (logger.enabled('debug')) logger.debug(`cache miss ${short}: ${await this.why(k)}`, this.o.fields);
    return undefined;
  }

  /** Why `k` missed, against the newest entry of the same instruction. */
  private async why(k: StepCacheKey): Promise<string> {
    const closest = await this.o.session.cache.closest(k.locator, this.o.signal).catch(() => undefined);
    if (!closest) return 'no entry for this instruction yet';
    const changed = changedParts(closest.parts, k.key.parts);
    if (changed.length === 0) return 'the newest entry for this instruction has the same inputs but is gone';
    const names: Record<string, string> = {
      below: 'the filesystem below the step (an earlier step or the base changed)',
      base: 'the base image',
      env: 'the ARG or ENV values it sees',
      mounts: 'its --mount specs or bind sources',
      sources: 'its source files (content, mode or owner)',
      step: 'the instruction',
    };
    return `changed since the newest entry for this instruction: ${changed.map((p) => names[p] ?? p).join(', ')}`;
  }

  /** Stores what a missed step built (its layer, or none, and the config after it) in the background. */
  store(k: StepCacheKey, layer: Layer | undefined, config: ContainerConfig): void {
    const { session, logger, signal } = this.o;
    if (!session.options.push) return;
    const short = entryTag(k.key).slice(0, 12);
    const put = session.cache
      .put(
        {
          key: k.key,
          locator: k.locator,
          platform: this.o.platform,
          created: this.o.now().toISOString(),
          ...(layer ? { layer } : {}),
          config,
        },
        signal,
      )
      .then(
        () => logger.debug(`cache entry ${short} stored in ${session.cache.where}`, this.o.fields),
        (err: unknown) => {
          if (!signal.aborted)
            logger.warn(
              `cache entry ${short} could not be stored in ${session.cache.where}: ${message(err)}`,
              this.o.fields,
            );
        },
      )
      .finally(() => session.stores.delete(put));
    session.stores.add(put);
  }
}
