/**
 * The build context as a directory (issue 14): a local one as it is, a remote one (a tarball,
 * standard input, a Git repository, a bucket object: `config/context-spec.ts`) fetched into a
 * fresh directory of the build, which goes when the build ends. `--context-sub-path` is the
 * directory inside it the build uses. Each kind's fetcher lives in a module of its own, loaded only
 * when a build uses it.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { ContextSource, ContextSpec } from '../config/context-spec.js';
import { fsError } from '../errors.js';
import type { BuildEnv } from './build-env.js';

/** The context of a build: its directory, and when all of it is there. */
export interface OpenedContext {
  /** The directory COPY and ADD read (the sub path joined). */
  dir: string;
  /**
   * Resolves once the whole context is in {@link dir} (at once for a local directory); rejects
   * with the fetch's error. A fetched context may still be unpacking when {@link openContext}
   * returns: whatever reads more than the Dockerfile waits for this.
   */
  ready: Promise<void>;
  /** Whether it was fetched (a local directory is not). */
  fetched: boolean;
  /** Stops a fetch still running, then removes what fetching made; a local context is left alone. */
  cleanup(): Promise<void>;
}

/** A context that is not a local directory. */
export type RemoteSpec = Exclude<ContextSpec, { kind: 'dir' }>;

/**
 * Fetches a remote context into `into`, an empty directory of the build. A fetcher that unpacks
 * entry by entry reports each path written (relative to `into`, with a leading `/`) to `onEntry`,
 * so that the build can go on as soon as its Dockerfile is there.
 */
export type ContextFetcher = (
  spec: RemoteSpec,
  into: string,
  env: BuildEnv,
  display: string,
  onEntry?: EntryListener,
) => Promise<void>;

/** Told of each path a fetcher wrote, with whether it is a regular file. */
export type EntryListener = (path: string, isFile: boolean) => void;

/**
 * When {@link openContext} returns: once the whole context is fetched (the default), at once
 * (the Dockerfile is elsewhere), or once the file at `file` (relative to the context, sub path
 * included) has been written (the Dockerfile inside it).
 */
export type ProceedWhen = 'fetched' | 'at-once' | { file: string };

/** The fetcher of each remote kind, loaded only when a build uses it. */
async function fetcherFor(spec: RemoteSpec): Promise<ContextFetcher> {
  switch (spec.kind) {
    case 'git':
      return (await import('./context-git.js')).fetchGitContext;
    case 'tar':
    case 'stdin':
      return (await import('./context-tar.js')).fetchTarContext;
    case 'url':
      return (await import('./context-url.js')).fetchUrlContext;
    case 's3':
      return (await import('./context-s3.js')).fetchS3Context;
    case 'gs':
      return (await import('./context-gcs.js')).fetchGcsContext;
    case 'azure':
      return (await import('./context-azure.js')).fetchAzureContext;
  }
}

/**
 * Opens the context `source` names. A remote one is fetched into `base/kiln-context-XXXXXX`
 * (`base` is where the build keeps its scratch files: `--kaniko-dir`, `/kaniko` in Kiln's image,
 * else the temp directory), which {@link OpenedContext.cleanup} removes. With `proceed` other than
 * `fetched`, the fetch goes on after this returns (issue 14: "fetched while the base image is
 * pulled"); {@link OpenedContext.ready} tells when it is done. A fetch that fails before this
 * returns is its error; after, `ready` rejects with it.
 */
export async function openContext(
  env: BuildEnv,
  source: ContextSource,
  base: string,
  proceed: ProceedWhen = 'fetched',
): Promise<OpenedContext> {
  const { spec } = source;
  if (spec.kind === 'dir')
    return { dir: resolve(env.cwd, spec.path), ready: Promise.resolve(), fetched: false, cleanup: async () => {} };
  const fetch = await fetcherFor(spec);
  await mkdir(base, { recursive: true }).catch((err: unknown) => {
    throw fsError(`creating ${base}`, err);
  });
  const root = resolve(
    env.cwd,
    await mkdtemp(join(base, 'kiln-context-')).catch((err: unknown) => {
      throw fsError(`creating a context directory in ${base}`, err);
    }),
  );
  const dir = source.subPath === undefined ? root : join(root, source.subPath);
  // The fetch has a signal of its own, so that cleanup can stop it before removing its directory.
  const stop = new AbortController();
  const fenv: BuildEnv = { ...env, signal: AbortSignal.any([env.signal, stop.signal]) };
  const wanted =
    typeof proceed === 'object' ? posix.normalize(`/${posix.join(source.subPath ?? '', proceed.file)}`) : '';
  let early: () => void = () => undefined;
  const arrived = new Promise<void>((res) => (early = res));
  const onEntry: EntryListener = (path, isFile) => {
    if (isFile && path === wanted) early();
  };
  const ready = fetch(spec, root, fenv, source.display, onEntry).then(() =>
    env.logger.info(`context ${source.display} fetched`),
  );
  const cleanup = async (): Promise<void> => {
    stop.abort();
    await ready.catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.race([ready, proceed === 'at-once' ? Promise.resolve() : arrived]);
  } catch (err) {
    await cleanup();
    throw err;
  }
  // Observed by whoever awaits it; a failure is never an unhandled rejection meanwhile.
  ready.catch(() => undefined);
  return { dir, ready, fetched: true, cleanup };
}
