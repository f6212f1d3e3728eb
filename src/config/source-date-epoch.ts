import { UsageError } from '../errors.js';

/**
 * `SOURCE_DATE_EPOCH` (reproducible-builds.org): seconds since the epoch, used for the image's
 * timestamps and to clamp the mtimes of new layers. Undefined when unset.
 */
export function sourceDateEpoch(env: Record<string, string | undefined>): Date | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`SOURCE_DATE_EPOCH="${raw}" is not a whole number of seconds`);
  return new Date(Number(raw) * 1000);
}
