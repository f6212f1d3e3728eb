/**
 * Image references with Docker's normalisation (distribution/reference): a name without a
 * registry host is on Docker Hub (`docker.io`), a one-part Hub name is under `library/`, and
 * a reference with neither tag nor digest means `latest`.
 */

export const DOCKER_HUB = 'docker.io';

export interface Reference {
  /** Registry host with optional port, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path, e.g. `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** Why a string is not a valid reference; thrown by {@link parseReference}. */
export class ReferenceSyntaxError extends Error {}

function looksLikeHost(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost' || part.startsWith('[') || part !== part.toLowerCase();
}

/** Parses and normalises an image reference. Throws {@link ReferenceSyntaxError} naming the problem. */
export function parseReference(input: string): Reference {
  const s = input.trim();
  if (s === '') throw new ReferenceSyntaxError('empty image reference');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceSyntaxError(`invalid digest "${digest}" in "${input}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceSyntaxError(`invalid tag "${tag}" in "${input}"`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && looksLikeHost(first)) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!PATH_COMPONENT.test(p)) {
      throw new ReferenceSyntaxError(`invalid repository name "${rest}" in "${input}" (lowercase letters, digits and separators only)`);
    }
  }
  const ref: Reference = { registry, repository: parts.join('/') };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

/** The canonical string form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** `registry/repository`, without tag or digest. */
export function repositoryName(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}
