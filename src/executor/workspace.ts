/**
 * Where a build's files live (ARCHITECTURE.md §12, Workspace): each stage's rootfs, the paths it
 * must keep, where temp files go and how it all goes away at the end. A build has one, made by
 * `build.ts` and handed to `buildStages`, which asks it for rootfses. This module holds the
 * interface and the scratch workspace, where every stage gets a fresh directory under the build's
 * work dir; `in-place-workspace.ts` builds the target and every stage with a RUN over `/` instead
 * (`--rootfs=/`, or Kiln's image in a pod without mount privileges, §4).
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fsError } from '../errors.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { BuildEnv } from './build-env.js';

/** A stage's rootfs, as a {@link Workspace} hands it out. */
export interface StageRoot {
  rootfs: Rootfs;
  /**
   * Paths the stage must never touch (`rootfs/in-place.ts`): base extraction neither writes nor
   * removes them, snapshots never capture them. Undefined: nothing is kept.
   */
  keep?: readonly string[];
}

/** What decides where a stage is built. */
export interface StageKind {
  /** The stage the build produces. */
  isTarget: boolean;
  /** The stage runs a command (a RUN, which needs the pod's /proc, /dev and DNS in place). */
  hasRun: boolean;
}

/** Where a build's stages live, and what happens to it all when the build ends. */
export interface Workspace {
  /** The build's own directory: the blob store, stage and image rootfses, the runner's files. */
  readonly work: string;
  /** The BuildEnv the stages run with: its `tmpDir` is where their scratch files (ADD downloads, git checkouts) go. */
  readonly env: BuildEnv;
  /** Where `RUN --mount` puts its scratch directories (tmpfs stand-ins, bind copies). */
  readonly runMountsDir: string;
  /**
   * Whether a stage is built over the host's own `/` (in place) rather than in a directory of
   * its own. Such stages run one at a time, each after every stage before it is done, since
   * making one empties `/`; the RUN isolation is chosen before the first, while the container's
   * own programs are still there. {@link mode} is then logged with the isolation.
   */
  inPlace(stage: StageKind): boolean;
  /** The log line naming how in-place stages are built, when some are. */
  readonly mode?: string;
  /** The rootfs stage `index` is built in (`/` itself when `inPlace`), made (or cleared) for it; called once per stage. */
  stageRootfs(index: number, inPlace: boolean): Promise<StageRoot>;
  /** A fresh, empty directory to unpack an image `COPY --from` reads. */
  imageRootfs(): Promise<Rootfs>;
  /** Removes what the build left, once every stage has stopped. */
  cleanup(): void;
}

/** Every stage in a directory of its own under the build's work dir. */
export class ScratchWorkspace implements Workspace {
  readonly runMountsDir: string;
  private images = 0;

  /** Over the existing, empty directory `work`, which {@link cleanup} removes. */
  constructor(
    readonly env: BuildEnv,
    readonly work: string,
  ) {
    this.runMountsDir = join(work, 'run-mounts');
  }

  inPlace(_stage: StageKind): boolean {
    return false;
  }

  async stageRootfs(index: number, _inPlace: boolean): Promise<StageRoot> {
    return { rootfs: await this.fresh(`stage-${index}`) };
  }

  imageRootfs(): Promise<Rootfs> {
    return this.fresh(`image-${this.images++}`);
  }

  private async fresh(name: string): Promise<Rootfs> {
    const rootfs = new Rootfs(join(this.work, name), this.env.ownership);
    await mkdir(rootfs.root, { mode: 0o755 });
    return rootfs;
  }

  cleanup(): void {
    // Synchronously, on purpose: fs.promises.rm starts an unlink for every entry of a directory
    // at once, which held 400 MB for a rootfs of 200,000 files (issue 11, finding 8); rmSync
    // walks depth-first in constant memory, and nothing else runs at this point.
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** Makes a new work dir for a build in `base` (created if missing): `base/kiln-build-XXXXXX`. */
export async function makeWorkDir(base: string): Promise<string> {
  await mkdir(base, { recursive: true }).catch((err: unknown) => {
    throw fsError(`creating ${base}`, err);
  });
  return mkdtemp(join(base, 'kiln-build-')).catch((err: unknown) => {
    throw fsError(`creating a build directory in ${base}`, err);
  });
}

/** The scratch workspace of a build: its work dir under `base`, by default `--kaniko-dir`, else the temp directory. */
export async function scratchWorkspace(
  env: BuildEnv,
  base = env.options.kanikoDir ?? env.tmpDir,
): Promise<ScratchWorkspace> {
  return new ScratchWorkspace(env, await makeWorkDir(base));
}
