/**
 * The in-place workspace (`--rootfs=/`, or Kiln's image by itself: placement.ts; ARCHITECTURE.md
 * §4, the third rung): the target and every stage with a RUN are built over the process's own
 * `/`, as Kaniko does, which only makes sense inside Kiln's own image. This module admits or refuses such a build before anything is read, pulled or touched,
 * works out what the build must keep (mount points, `--kaniko-dir`, the context, Kiln's own files,
 * `--ignore-path`s: `rootfs/in-place.ts`), and is the {@link Workspace} that clears `/` for each
 * in-place stage and, with `--cleanup`, again at the end. The other stages live in directories of
 * their own under the work dir, as in a scratch workspace.
 */
import { lstat, mkdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsError, UsageError } from '../errors.js';
import { clearRootfs } from '../rootfs/clear.js';
import { detectContainer, type ContainerFacts } from '../rootfs/container.js';
import { readContainerFacts } from '../rootfs/host-facts.js';
import { inPlaceKeepList } from '../rootfs/in-place.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { BuildEnv } from './build-env.js';
import { makeWorkDir, ScratchWorkspace, type StageKind, type StageRoot, type Workspace } from './workspace.js';

/** Kaniko's `--kaniko-dir` default, which Kiln uses when building in place. */
export const IN_PLACE_KANIKO_DIR = '/kaniko';

/** An admitted in-place build. */
export interface InPlaceAdmission {
  /** The log line naming the mode and why it is allowed here. */
  mode: string;
  /** `/proc/self/mountinfo` as read at admission: its mount points are kept. */
  mountinfo: string;
}

/**
 * The debug image's busybox and its applets, the shell a CI job's script runs in (`/bin/sh` leads
 * there). Kaniko's debug image keeps it through `VOLUME /busybox`, a mount point in its ignore list;
 * Kiln keeps it whenever it is there, since a pod need not mount an image's volumes.
 */
export const DEBUG_SHELL_DIR = '/busybox';

/**
 * Files of the running program: Kiln's package directory, the node executable, and the debug
 * image's shell directory when there is one.
 */
export interface SelfPaths {
  kilnDir: string;
  nodeExecutable: string;
  shellDir?: string;
}

/**
 * Where this Kiln runs from: the package directory above this module (a `package.json` named
 * kiln: the repository, an npm install), else this module's own directory (the bundle in Kiln's
 * image, `/kaniko/lib`, whose files the snapshot workers load later); and {@link DEBUG_SHELL_DIR}
 * when it is a directory.
 */
export async function selfPaths(): Promise<SelfPaths> {
  const shell = await lstat(DEBUG_SHELL_DIR).then(
    (s) => (s.isDirectory() ? { shellDir: DEBUG_SHELL_DIR } : {}),
    () => ({}),
  );
  const moduleDir = dirname(fileURLToPath(import.meta.url));
  for (let dir = moduleDir; ; dir = dirname(dir)) {
    const pkg = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
    if (pkg !== undefined && /"name"\s*:\s*"kiln"/.test(pkg))
      return { kilnDir: dir, nodeExecutable: process.execPath, ...shell };
    if (dir === dirname(dir)) return { kilnDir: moduleDir, nodeExecutable: process.execPath, ...shell };
  }
}

const REFUSAL =
  "--rootfs=/ builds in place over this machine's own filesystem and is refused outside a container; run Kiln's image, or add --force if you really mean it";

/**
 * Admits `--rootfs=/` inside a container (or anywhere with `--force`, with a warning), else
 * throws a UsageError (exit 2). Also refuses a context or `--kaniko-dir` at `/` itself, which
 * could not be kept while `/` is rebuilt, and a host whose mount table cannot be read. `auto` is
 * the mode line of Kiln's image going in place by itself (placement.ts), inside a container.
 */
export async function admitInPlace(env: BuildEnv, facts?: ContainerFacts, auto?: string): Promise<InPlaceAdmission> {
  const o = env.options;
  const f = facts ?? (await readContainerFacts(env.env));
  const verdict = detectContainer(f);
  if (!verdict.inContainer && !o.force && auto === undefined) {
    const dockerenv = f.dockerenv ? ' (/.dockerenv also survives when an image becomes a VM disk or a chroot)' : '';
    const found =
      verdict.weak.length > 0
        ? `found only ${verdict.weak.join(' and ')}, which does not show a container${dockerenv}`
        : 'no sign of a container was found';
    throw new UsageError(REFUSAL, {
      hint: `${found}; looked for /run/.containerenv, $container, $KUBERNETES_SERVICE_HOST, a runtime in /proc/1/cgroup and container storage at /`,
    });
  }
  // A fetched context goes to a directory of the build, never `/`.
  const local = o.contextDir === undefined ? [] : [['--context', resolve(env.cwd, o.contextDir)] as const];
  for (const [flag, value] of [
    ...local,
    ['--kaniko-dir', resolve(env.cwd, o.kanikoDir ?? IN_PLACE_KANIKO_DIR)] as const,
  ]) {
    if (value === '/')
      throw new UsageError(
        `${flag} ${value}: an in-place build keeps ${flag} as it is, so it cannot be / itself; use a directory of its own (a volume)`,
      );
  }
  if (f.mountinfo === undefined)
    throw new UsageError(
      'an in-place build needs /proc/self/mountinfo to keep every mount point as it is, and it cannot be read here',
    );
  if (!verdict.inContainer)
    env.logger.warn("--rootfs=/ --force: no container detected, building in place over this machine's own filesystem");
  if (auto !== undefined) return { mode: auto, mountinfo: f.mountinfo };
  const why = verdict.inContainer ? `inside a container: ${verdict.evidence.join(', ')}` : 'forced outside a container';
  return { mode: `isolation: in-place (--rootfs=/, ${why})`, mountinfo: f.mountinfo };
}

/** The given path and, when a symlink leads elsewhere, its real path: both are kept. */
async function withRealPath(path: string): Promise<string[]> {
  try {
    const real = await realpath(path);
    return real === path ? [path] : [path, real];
  } catch {
    return [path]; // not there (yet): nothing behind it to protect
  }
}

/** What {@link inPlaceKeep} needs besides the BuildEnv. */
export interface KeepContext {
  admission: InPlaceAdmission;
  /** `--kaniko-dir` as used (default {@link IN_PLACE_KANIKO_DIR}), and the build's work dir in it. */
  kanikoDir: string;
  work: string;
  contextDir: string;
  self?: SelfPaths;
}

/**
 * The paths the in-place stage keeps: the mount points of the admission's mountinfo, `/dev`,
 * `/proc`, `/sys`, the `--ignore-path`s, and what the build reads until it ends — `--kaniko-dir`
 * (the work dir, blobs and earlier stages' rootfses live there), the context, Kiln's own files
 * (with the debug image's `/busybox`, which the job's shell runs from),
 * `--secret` files, the Docker client config (credentials for the push), and the directories
 * the outputs are written to. A kept path that is `/` itself is refused.
 */
export async function inPlaceKeep(env: BuildEnv, k: KeepContext): Promise<string[]> {
  const o = env.options;
  const self = k.self ?? (await selfPaths());
  const dockerConfig = env.env.DOCKER_CONFIG ? resolve(env.cwd, env.env.DOCKER_CONFIG) : join(env.homeDir, '.docker');
  const secrets = [...o.secrets.values()].flatMap((s) => (s.kind === 'file' ? [resolve(env.cwd, s.path)] : []));
  const outputs = [
    o.tarPath,
    o.ociLayoutPath,
    o.digestFile,
    o.imageNameWithDigestFile,
    o.imageNameTagWithDigestFile,
  ].flatMap((p) => (p === undefined ? [] : [dirname(resolve(env.cwd, p))]));
  const given = [
    k.kanikoDir,
    k.work,
    k.contextDir,
    self.kilnDir,
    self.nodeExecutable,
    ...(self.shellDir !== undefined ? [self.shellDir] : []),
    dockerConfig,
    ...secrets,
    ...outputs,
  ];
  const found = await Promise.all(given.map(withRealPath));
  // The first three hold the build itself; an output written to / just has no directory to keep.
  const atRoot = found.slice(0, 3).findIndex((paths) => paths.includes('/'));
  if (atRoot >= 0) {
    throw new UsageError(
      `${given[atRoot] ?? '/'} leads to / itself, which an in-place build (--rootfs=/) cannot keep while it rebuilds /; use a directory of its own (a volume)`,
    );
  }
  const own = found.flat();
  return inPlaceKeepList({ mountinfo: k.admission.mountinfo, own, ignorePaths: o.ignorePaths });
}

/**
 * The BuildEnv of an in-place build's stages: scratch files (ADD downloads, git checkouts) go to
 * the work dir instead of the temp dir, and RUN cache mounts under `--kaniko-dir`, since
 * whatever lies elsewhere is wiped with `/` or would end up in a layer.
 */
export async function inPlaceEnv(env: BuildEnv, kanikoDir: string, work: string): Promise<BuildEnv> {
  const tmpDir = join(work, 'tmp');
  await mkdir(tmpDir, { recursive: true }).catch((err: unknown) => {
    throw fsError(`creating ${tmpDir}`, err);
  });
  return { ...env, options: { ...env.options, kanikoDir }, tmpDir };
}

/** Kaniko's `--cleanup`: a container that builds again starts from its own files only. */
function cleanupRoot(env: BuildEnv, keep: readonly string[]): void {
  if (!env.options.cleanup) return;
  const removed = clearRootfs(new Rootfs('/'), keep);
  env.logger.info(`in-place: --cleanup emptied / (${removed} paths removed)`);
}

/**
 * The target and every stage with a RUN over `/`, one after another, as Kaniko builds its
 * stages; the others (no command needs the pod's /proc, /dev or DNS) in directories of their own
 * under the work dir, as in a scratch workspace, where they can run beside the in-place ones.
 */
export class InPlaceWorkspace extends ScratchWorkspace implements Workspace {
  /** `env` as {@link inPlaceEnv} made it; `keep` from {@link inPlaceKeep}. */
  constructor(
    env: BuildEnv,
    work: string,
    readonly keep: readonly string[],
    readonly mode: string,
  ) {
    super(env, work);
  }

  override inPlace(stage: StageKind): boolean {
    return stage.isTarget || stage.hasRun;
  }

  /**
   * An in-place stage's rootfs is `/` itself, emptied of everything but the kept paths (mount
   * points, --kaniko-dir, the context, Kiln's own files, --ignore-paths) before its base is
   * unpacked there, as Kaniko does. A later stage that reads an earlier in-place stage's files
   * (`COPY --from`, `RUN --mount from=`) gets them unpacked again from its layers (stages.ts),
   * where Kaniko saves each stage's files aside before wiping `/`.
   */
  override async stageRootfs(index: number, inPlace: boolean): Promise<StageRoot> {
    if (!inPlace) return super.stageRootfs(index, inPlace);
    const rootfs = new Rootfs('/');
    const removed = clearRootfs(rootfs, this.keep);
    this.env.logger.info(
      `in-place: cleared / for stage ${index}'s base image (${removed} paths removed, ${this.keep.length} kept)`,
      { kept: this.keep.join(' ') },
    );
    return { rootfs, keep: this.keep };
  }

  override cleanup(): void {
    super.cleanup();
    cleanupRoot(this.env, this.keep);
  }
}

/**
 * The workspace of an admitted in-place build: a work dir under `--kaniko-dir` (default
 * {@link IN_PLACE_KANIKO_DIR}; `work` when the caller made it there already), the kept paths,
 * and the stages' BuildEnv. If it cannot be made, what was made goes as it would at the end.
 */
export async function inPlaceWorkspace(
  env: BuildEnv,
  admission: InPlaceAdmission,
  contextDir: string,
  made?: string,
  self?: SelfPaths,
): Promise<InPlaceWorkspace> {
  const base = env.options.kanikoDir ?? IN_PLACE_KANIKO_DIR;
  const work = made ?? (await makeWorkDir(base));
  const kanikoDir = resolve(env.cwd, base);
  let keep: string[] | undefined;
  try {
    keep = await inPlaceKeep(env, {
      admission,
      kanikoDir,
      work: resolve(env.cwd, work),
      contextDir,
      ...(self ? { self } : {}),
    });
    const staged = await inPlaceEnv(env, kanikoDir, resolve(env.cwd, work));
    return new InPlaceWorkspace(staged, work, keep, admission.mode);
  } catch (err) {
    new ScratchWorkspace(env, work).cleanup();
    if (keep) cleanupRoot(env, keep);
    throw err;
  }
}
