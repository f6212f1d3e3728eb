/**
 * `--rootfs` and `--force`: the in-place rung of the isolation ladder (ARCHITECTURE.md §4). By default
 * every stage gets its own rootfs directory under the build's scratch dir; `--rootfs=/` builds
 * the target and every stage with a RUN over the process's own `/`, Kaniko's model, which only makes sense inside
 * Kiln's own image. `--force` lets it go ahead outside a container (Kaniko's `--force` means the
 * same: "build outside of a container"). PURE.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';

export const rootfsRawShape = {
  rootfs: z.string().optional(),
  force: z.boolean().default(false),
  cleanup: z.boolean().default(false),
};

type RootfsRaw = z.output<z.ZodObject<typeof rootfsRawShape>>;

/** Where the target stage's filesystem lives, validated. */
export interface RootfsOptions {
  /** `--rootfs=/`: the target stage is built in place over `/` (refused outside a container unless {@link force}). */
  inPlace: boolean;
  /** `--force`: build in place even where no container is detected. */
  force: boolean;
  /**
   * Kaniko's `--cleanup`: empty the filesystem at the end of the build. Only an in-place build
   * leaves one behind (`/`); a directory build's scratch directory is always removed.
   */
  cleanup: boolean;
}

/**
 * Validates `--rootfs` and `--force`. Only `/` is accepted: any other directory is what Kiln
 * does anyway without the flag (a fresh directory per stage under `--kaniko-dir`), so a path
 * there is most likely a misunderstanding worth a clear refusal.
 */
export function parseRootfsOptions(o: RootfsRaw): RootfsOptions {
  if (o.rootfs === undefined) return { inPlace: false, force: o.force, cleanup: o.cleanup };
  const value = o.rootfs.trim();
  if (value === '' || posix.normalize(value) !== '/') {
    throw new UsageError(`--rootfs "${o.rootfs}": only / is supported (an in-place build, inside Kiln's own image)`, {
      hint: 'without --rootfs every stage is built in its own directory under --kaniko-dir, which needs no flag',
    });
  }
  return { inPlace: true, force: o.force, cleanup: o.cleanup };
}
