/**
 * What every instruction handler receives and returns. Handlers return facts — the new stage
 * state and the filesystem changes they made — and never build layers or touch the image
 * themselves; the stage builder turns changes into a layer and a history entry.
 */
import type { SourceLocation } from '../errors.js';
import type { Logger } from '../log.js';
import type { ContainerConfig } from '../oci/schemas.js';
import type { Dockerignore } from '../context/dockerignore.js';
import type { ProcessRunner } from '../exec/runner.js';
import type { Change } from '../rootfs/change.js';
import type { ResolvedFrom, StepSources } from '../plan/sources.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import type { DownloadPolicy } from './add-url.js';
import type { RunMountEnv } from './run-mounts.js';

/** The evolving state of a stage while its instructions run. */
export interface StageState {
  config: ContainerConfig;
  /**
   * ARGs in scope and their values (undefined: declared without a value): those declared in this
   * stage so far, after those of the stage it is built `FROM`, which it inherits with their final
   * values (BuildKit `dispatchState.init` appends the base stage's build args).
   */
  args: ReadonlyMap<string, string | undefined>;
  /** The Dockerfile's escape character (`# escape=` directive), `\` by default. */
  escape: string;
  /** Whether CMD was set in this stage: ENTRYPOINT clears an inherited CMD only (Docker). */
  cmdSet: boolean;
  /** The image's `author` (MAINTAINER), outside `config`. */
  author?: string;
}

export interface StepResult {
  state: StageState;
  /** Filesystem changes; empty for metadata-only instructions. */
  changes: Change[];
  /**
   * The changes were found by a snapshot (RUN), not named by the step: the snapshotter's kept
   * index already knows them and need not be told (executor/stage-layers.ts).
   */
  fromSnapshot?: boolean;
  /**
   * Paths the step created that belong in the stage's next layer rather than one of its own: the
   * directories VOLUME makes, which Kaniko snapshots "in the next command" (its VOLUME takes no
   * snapshot). Its history entry is an empty layer; executor/stage-layers.ts carries them over.
   */
  deferred?: Change[];
}

/** Docker's default shell for shell-form RUN/CMD/ENTRYPOINT on Linux. */
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Docker's default PATH, set when an image defines none (moby `system.DefaultPathEnv`). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Reads `KEY` from an `Env` list (`KEY=value` strings); the last definition wins. */
export function envValue(env: readonly string[] | null | undefined, key: string): string | undefined {
  let found: string | undefined;
  for (const kv of env ?? []) {
    if (kv.startsWith(`${key}=`)) found = kv.slice(key.length + 1);
  }
  return found;
}

/** Sets `KEY=value` in an `Env` list, replacing an earlier definition in place as Docker does. */
export function withEnv(env: readonly string[] | null | undefined, key: string, value: string): string[] {
  const list = [...(env ?? [])];
  const i = list.findIndex((kv) => kv.startsWith(`${key}=`));
  if (i >= 0) list[i] = `${key}=${value}`;
  else list.push(`${key}=${value}`);
  return list;
}

/**
 * The variables visible to word expansion in a stage: declared ARGs, overridden by ENV
 * (Docker: "an ENV instruction always overrides an ARG instruction of the same name").
 */
export function expansionEnv(state: StageState): Record<string, string | undefined> {
  const vars: Record<string, string | undefined> = {};
  for (const [k, v] of state.args) if (v !== undefined) vars[k] = v;
  for (const kv of state.config.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) vars[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return vars;
}

/**
 * The services and facts a filesystem step (WORKDIR, COPY, ADD, RUN) may use. The stage builder
 * makes one per stage (executor/stage.ts) and sets `at` for each instruction, so that every
 * filesystem handler has the one shape `(ins, state, ctx) => Promise<StepResult>`.
 */
export interface StepContext {
  logger: Logger;
  signal: AbortSignal;
  /** Where the instruction is in the Dockerfile, for errors. */
  at: SourceLocation;
  /** The stage's filesystem, which the step changes. */
  rootfs: Rootfs;
  /** The build context directory: COPY and ADD sources, `RUN --mount=type=bind` without `from`. */
  contextDir: string;
  /**
   * The context is the build's own fetched copy and nothing reads it after this step
   * (executor/stage.ts): COPY may link its files into the rootfs instead of copying them.
   */
  takeContext?: boolean;
  /** The build context's ignore patterns, which COPY and ADD honour (none when absent). */
  dockerignore: Dockerignore;
  /** What the plan resolved for this instruction: its COPY/ADD `--from`, its RUN `--mount`s (plan/sources.ts). */
  planned: StepSources;
  /** The rootfs of the stage or image a `--from` (COPY) or `from=` (RUN --mount) names, as the plan resolved it. */
  fromSource: (from: ResolvedFrom) => Promise<Rootfs>;
  /** The build's environment (PATH for git and decompressors, git's credentials). */
  env: Readonly<Record<string, string | undefined>>;
  /** Scratch space outside the rootfs (downloads to unpack, git checkouts). */
  tmpDir: string;
  /** The clock, for the mtime of heredoc files (as BuildKit: the time they are made). */
  now: () => Date;
  /** Timeouts and retries of `ADD <url>` (`--network-timeout`); default: add-url.ts's. */
  download?: DownloadPolicy;
  /** The process runner, chosen on first use (a build without RUN never probes). */
  runner: () => Promise<ProcessRunner>;
  /** Where a RUN's output goes while it runs (the build's stdout). */
  output: (chunk: Buffer) => void;
  /**
   * Finds what a RUN changed in the rootfs. None under `--single-snapshot`: the stage takes its
   * one snapshot at its end, and a RUN reports no changes of its own.
   */
  snapshotter: Snapshotter | undefined;
  /** Docker's predefined proxy ARGs given with --build-arg: in RUN's environment without an ARG line. */
  proxyArgs: ReadonlyMap<string, string>;
  /** What `RUN --mount` needs besides the context and `fromSource`: cache dir, scratch dir, secrets, the context's filter. */
  runMounts: Pick<RunMountEnv, 'cacheRoot' | 'scratchDir' | 'secret' | 'contextIgnore'>;
}
