/**
 * VOLUME: declares mount points in the config and creates each one that is missing, root:root
 * 0755, as Kaniko does (its VOLUME command runs `os.MkdirAll(volume, 0755)` when `os.Stat`
 * finds nothing), so that `VOLUME /foo1` then `RUN echo hello > /foo1/hello` builds (Kaniko's
 * integration test `Dockerfile_test_volume`; the classic builder and Buildah make the directory
 * too, BuildKit does not). A path that exists, whatever it is, is left alone.
 *
 * Like Kaniko's, the step takes no snapshot of its own: its history entry is an empty layer, and
 * the directories go into the stage's next layer ("Volumes are very weird. They get snapshotted
 * in the next command", Kaniko `takeSnapshot`), through {@link StepResult.deferred}. Unlike
 * Kaniko and the classic builder, what later steps write inside a volume is kept, as BuildKit
 * keeps it (Docker documents both behaviours).
 */
import { posix } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import type { VolumeInstruction } from '../dockerfile/instructions.js';
import { lstat } from '../rootfs/host-fs.js';
import { mkdirAll } from '../rootfs/mkdir.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { expandToWords } from './expand.js';
import type { StageState, StepContext, StepResult } from './step.js';

export async function volume(ins: VolumeInstruction, state: StageState, ctx: StepContext): Promise<StepResult> {
  const volumes: Record<string, Record<string, unknown>> = { ...(state.config.Volumes ?? {}) };
  const created: string[] = [];
  for (const p of ins.paths.flatMap((w) => expandToWords(ins, state, w))) {
    volumes[p] = {};
    const path = posix.resolve('/', p);
    if (!(await exists(ctx.rootfs, path))) created.push(...(await mkdirAll(ctx.rootfs, path)));
  }
  return {
    state: { ...state, config: { ...state.config, Volumes: volumes } },
    changes: [],
    deferred: created.map((path) => ({ kind: 'upsert', path })),
  };
}

/** Whether anything is at `path`, following symlinks inside the rootfs (Kaniko's `os.Stat`). */
async function exists(rootfs: Rootfs, path: string): Promise<boolean> {
  try {
    await lstat(await rootfs.resolve(path, { followFinal: true }));
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw fsError(`looking for ${path} in the rootfs`, err);
  }
}
