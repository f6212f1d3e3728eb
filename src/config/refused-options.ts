/**
 * Kaniko flags Kiln parses as Kaniko does but refuses, each with the reason (ARCHITECTURE.md §9:
 * a flag accepted but not honoured would be a lie): the layer cache flags, until Kiln's layer
 * cache lands (issue 15). PURE.
 *
 * A boolean cache flag given as `--flag=false` never reaches here (`cli/argv.ts` drops it):
 * `--cache=false`, `--cache-copy-layers=false`, `--cache-run-layers=false` and
 * `--compressed-caching=false` ask for no cache, or nothing of one, which is what Kiln does.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';

export const refusedRawShape = {
  cache: z.boolean().optional(),
  cacheRepo: z.string().optional(),
  cacheDir: z.string().optional(),
  cacheTtl: z.string().optional(),
  cacheCopyLayers: z.boolean().optional(),
  cacheRunLayers: z.boolean().optional(),
  compressedCaching: z.boolean().optional(),
  /** commander's name for `--no-push-cache` (false when it is given). */
  pushCache: z.boolean().default(true),
};

type RefusedRaw = z.output<z.ZodObject<typeof refusedRawShape>>;

const CACHE = {
  why: "Kiln's layer cache is not implemented yet",
  hint: 'build without the cache flags: every build then runs every step, as Kaniko does without --cache',
};

/** The refused flags in Kaniko's order, with what makes each one given. */
const REFUSED: [flag: string, given: (o: RefusedRaw) => boolean, reason: typeof CACHE][] = [
  ['--cache', (o) => o.cache === true, CACHE],
  ['--cache-repo', (o) => o.cacheRepo !== undefined, CACHE],
  ['--cache-dir', (o) => o.cacheDir !== undefined, CACHE],
  ['--cache-ttl', (o) => o.cacheTtl !== undefined, CACHE],
  ['--cache-copy-layers', (o) => o.cacheCopyLayers === true, CACHE],
  ['--cache-run-layers', (o) => o.cacheRunLayers === true, CACHE],
  ['--compressed-caching', (o) => o.compressedCaching === true, CACHE],
  ['--no-push-cache', (o) => !o.pushCache, CACHE],
];

/** Throws a UsageError naming the first refused flag given, and why. */
export function refuseUnsupported(o: RefusedRaw): void {
  for (const [flag, given, reason] of REFUSED) {
    if (given(o)) throw new UsageError(`${flag} is not supported: ${reason.why}`, { hint: reason.hint });
  }
}
