/**
 * What a layer cache entry carries besides its layer (issue 15), PURE: the tag it is stored
 * under (its key's hex digest, as Kaniko tags `CACHE_REPO:<key>`), the key's parts as manifest
 * annotations (so that a miss can name the input that changed against an entry it finds,
 * cache/step-key.ts), and the entry's age against `--cache-ttl`.
 */
import { createHash } from 'node:crypto';
import { KEY_PARTS, type StepKey } from './step-key.js';

/** The annotation holding the whole key; each part's is this plus `.<part>`. */
export const KEY_ANNOTATION = 'dev.kiln.cache.key';

/** The tag of the entry of `key`: its sha256 hex (64 characters, within a tag's grammar). */
export function entryTag(key: StepKey): string {
  return key.digest.slice('sha256:'.length);
}

/** The manifest annotations of the entry of `key`. */
export function entryAnnotations(key: StepKey): Record<string, string> {
  const out: Record<string, string> = { [KEY_ANNOTATION]: key.digest };
  for (const [part, digest] of Object.entries(key.parts)) out[`${KEY_ANNOTATION}.${part}`] = digest;
  return out;
}

/** The key an entry's annotations record, or undefined when they hold none (another tool's image). */
export function keyOfAnnotations(annotations: Readonly<Record<string, string>> | undefined): StepKey | undefined {
  const digest = annotations?.[KEY_ANNOTATION];
  if (digest === undefined) return undefined;
  const parts: StepKey['parts'] = {};
  for (const part of KEY_PARTS) {
    const d = annotations?.[`${KEY_ANNOTATION}.${part}`];
    if (d !== undefined) parts[part] = d;
  }
  return { digest, parts };
}

/**
 * Whether an entry made at `created` (its config's RFC 3339 time) is past `ttlMs` at `now`. An
 * entry without a readable time, or one from the future, counts as expired: it cannot be trusted
 * to be young.
 */
export function isExpired(created: string | undefined, ttlMs: number, now: Date): boolean {
  const t = created === undefined ? NaN : Date.parse(created);
  if (Number.isNaN(t) || t > now.getTime() + 60_000) return true;
  return now.getTime() - t > ttlMs;
}

/**
 * The locator tag of a step: `loc-` and the first 60 hex characters of the sha256 over `names`
 * (the platform, the stage and the instruction as written). The newest entry made for that step
 * carries it too, so a miss can compare its key with that entry's (changedParts).
 */
export function locatorTag(names: readonly string[]): string {
  return `loc-${createHash('sha256').update(JSON.stringify(names)).digest('hex').slice(0, 60)}`;
}
