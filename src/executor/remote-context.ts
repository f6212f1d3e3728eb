/**
 * The build context as a directory (issue 14): a local one as it is, a remote one (a tarball,
 * standard input, a Git repository, a bucket object: `config/context-spec.ts`) fetched into a
 * fresh directory of the build, which goes when the build ends. `--context-sub-path` is the
 * directory inside it the build uses. Each kind's fetcher lives in a module of its own, loaded only
 * when a build uses it.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ContextSource, ContextSpec } from '../config/context-spec.js';
import { remoteContextRefusal } from '../config/refused-options.js';
import { fsError } from '../errors.js';
import type { BuildEnv } from './build-env.js';

/** The context of a build, ready to read. */
export interface OpenedContext {
  /** The directory COPY and ADD read (the sub path joined). */
  dir: string;
  /** Removes what fetching made; a local context is left alone. */
  cleanup(): void;
}

/** A context that is not a local directory. */
export type RemoteSpec = Exclude<ContextSpec, { kind: 'dir' }>;

/** Fetches a remote context into `into`, an empty directory of the build. */
export type ContextFetcher = (spec: RemoteSpec, into: string, env: BuildEnv, display: string) => Promise<void>;

/** The fetcher of each remote kind Kiln has (config/context-spec.ts FETCHED_KINDS lists them). */
async function fetcherFor(spec: RemoteSpec, source: ContextSource): Promise<ContextFetcher> {
  switch (spec.kind) {
    case 'git':
      return (await import('./context-git.js')).fetchGitContext;
    case 'tar':
    case 'stdin':
    case 'url':
    case 's3':
    case 'gs':
    case 'azure':
      throw remoteContextRefusal(source.display, source.flag);
  }
}

/**
 * Opens the context `source` names. A remote one is fetched into `base/kiln-context-XXXXXX`
 * (`base` is where the build keeps its scratch files: `--kaniko-dir`, `/kaniko` in Kiln's image,
 * else the temp directory), which {@link OpenedContext.cleanup} removes.
 */
export async function openContext(env: BuildEnv, source: ContextSource, base: string): Promise<OpenedContext> {
  const { spec } = source;
  if (spec.kind === 'dir') return { dir: resolve(env.cwd, spec.path), cleanup: () => undefined };
  const fetch = await fetcherFor(spec, source);
  await mkdir(base, { recursive: true }).catch((err: unknown) => {
    throw fsError(`creating ${base}`, err);
  });
  const root = resolve(
    env.cwd,
    await mkdtemp(join(base, 'kiln-context-')).catch((err: unknown) => {
      throw fsError(`creating a context directory in ${base}`, err);
    }),
  );
  const cleanup = (): void => rmSync(root, { recursive: true, force: true });
  try {
    await fetch(spec, root, env, source.display);
  } catch (err) {
    cleanup();
    throw err;
  }
  env.logger.info(`context ${source.display} fetched`);
  return { dir: source.subPath === undefined ? root : join(root, source.subPath), cleanup };
}
