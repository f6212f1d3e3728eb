/**
 * URL paths of the distribution API (OCI distribution spec, "Endpoints": end-2 … end-13) and
 * validation of the names that go into them, so that a malformed repository, tag or digest is
 * refused here instead of reaching another endpoint.
 */
import { RegistryError } from '../errors.js';

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Whether `s` has the shape of a digest (`algorithm:encoded`) rather than a tag. */
export function looksLikeDigest(s: string): boolean {
  return s.includes(':');
}

function invalid(registry: string, what: string): RegistryError {
  return new RegistryError(`invalid ${what}`, { registry });
}

/** Throws unless `repository` is a valid repository name (spec: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/…)*`). */
export function checkRepository(registry: string, repository: string): void {
  if (!REPOSITORY.test(repository)) throw invalid(registry, `repository name "${repository}"`);
}

/** Throws unless `digest` is a valid digest. */
export function checkDigest(registry: string, digest: string): void {
  if (!DIGEST.test(digest)) throw invalid(registry, `digest "${digest}"`);
}

/** Throws unless `ref` is a valid tag or digest. */
export function checkTagOrDigest(registry: string, ref: string): void {
  if (looksLikeDigest(ref)) checkDigest(registry, ref);
  else if (!TAG.test(ref)) throw invalid(registry, `tag "${ref}"`);
}

/** `/v2/<name>/manifests/<reference>` (end-3, end-7). */
export function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

/** `/v2/<name>/blobs/<digest>` (end-2). */
export function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/** `/v2/<name>/blobs/uploads/` (end-4a), with query parameters such as `mount` and `from` (end-11). */
export function uploadsPath(repository: string, query?: Record<string, string>): string {
  const q = query ? `?${new URLSearchParams(query).toString()}` : '';
  return `/v2/${repository}/blobs/uploads/${q}`;
}

/**
 * Adds `name=value` to an upload URL without re-encoding what the registry put there (its
 * `_state` parameter must come back byte for byte).
 */
export function appendQuery(url: URL, name: string, value: string): URL {
  const out = new URL(url);
  const pair = `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  out.search = out.search === '' || out.search === '?' ? `?${pair}` : `${out.search}&${pair}`;
  return out;
}
