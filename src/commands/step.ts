/**
 * What every instruction handler receives and returns. Handlers return facts — the new stage
 * state and the filesystem changes they made — and never build layers or touch the image
 * themselves; the stage builder turns changes into a layer and a history entry.
 */
import type { SourceLocation } from '../errors.js';
import type { Logger } from '../log.js';
import type { ContainerConfig } from '../oci/schemas.js';
import type { Change } from '../rootfs/change.js';

/** The evolving state of a stage while its instructions run. */
export interface StageState {
  config: ContainerConfig;
  /** ARGs declared in this stage so far and their values (undefined: declared without a value). */
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

/** Facts and services a filesystem handler needs, passed in by the stage builder. */
export interface StepIO {
  logger: Logger;
  signal: AbortSignal;
  at: SourceLocation;
}
