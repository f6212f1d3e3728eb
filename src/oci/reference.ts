/**
 * Image references with Docker's normalisation (distribution/reference, `ParseNormalizedNamed`):
 * a name without a registry host is on Docker Hub (`docker.io`, also spelt `index.docker.io`), a
 * one-part Hub name is under `library/`, and a reference with neither tag nor digest means
 * `latest`. Hosts may carry a port and be IPv6 literals in brackets (`[::1]:5000/app`).
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

// The grammar of distribution/reference (reference.go and regexp.go).
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
/** distribution/reference's NameTotalLengthMax: registry and repository together. */
const NAME_MAX = 255;
/** Hosts that are Docker Hub under another name; `registry-1.docker.io` is the API host itself. */
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Why a string is not a valid reference; thrown by {@link parseReference}. */
export class ReferenceSyntaxError extends Error {}

/**
 * Whether a reference's first path component names a registry (distribution's
 * `splitDockerDomain`): it contains `.` or `:`, is `localhost`, is an IPv6 literal, or has an
 * uppercase letter (repository names never do).
 */
function looksLikeHost(part: string): boolean {
  return (
    part.includes('.') ||
    part.includes(':') ||
    part === 'localhost' ||
    part.startsWith('[') ||
    part !== part.toLowerCase()
  );
}

/** Why `host` (`name[:port]`, `[v6][:port]`) is not a registry host, or undefined when it is one. */
export function registryHostProblem(host: string): string | undefined {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return 'an IPv6 address must end with "]"';
    name = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `unexpected "${rest}" after the IPv6 address`;
      port = rest.slice(1);
    }
    if (!IPV6.test(name)) return `"${name}" is not an IPv6 address`;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (name === '' || !name.split('.').every((c) => DOMAIN_COMPONENT.test(c)))
      return `"${name}" is not a valid host name`;
  }
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) return `"${port}" is not a valid port`;
  return undefined;
}

function checkDigest(digest: string, input: string): void {
  const bad = (why: string): ReferenceSyntaxError =>
    new ReferenceSyntaxError(`invalid digest "${digest}" in "${input}": ${why}`);
  if (!DIGEST.test(digest)) throw bad('expected ALGORITHM:HEX');
  const [algorithm = '', hex = ''] = digest.split(':');
  // go-digest: the registered algorithms have fixed lengths and lowercase hex.
  const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
  const want = lengths[algorithm];
  if (want !== undefined && (hex.length !== want || hex !== hex.toLowerCase()))
    throw bad(`${algorithm} takes ${want} lowercase hex digits`);
}

/** Parses and normalises an image reference. Throws {@link ReferenceSyntaxError} naming the problem. */
export function parseReference(input: string): Reference {
  const s = input.trim();
  if (s === '') throw new ReferenceSyntaxError('empty image reference');
  if (/\s/.test(s)) throw new ReferenceSyntaxError(`invalid image reference "${input}": it contains whitespace`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new ReferenceSyntaxError(
      `invalid image reference "${input}": a reference has no URL scheme (write ${s.replace(/^[^:]+:\/\//, '')})`,
    );
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest, input);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  // A colon after the last slash starts the tag; one before it belongs to the host's port or an IPv6 literal.
  if (colon > lastSlash && !(lastSlash < 0 && rest.startsWith('[') && colon < rest.indexOf(']'))) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw new ReferenceSyntaxError(
        `invalid tag "${tag}" in "${input}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`,
      );
  }
  if (rest === '') throw new ReferenceSyntaxError(`invalid image reference "${input}": no repository name`);
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && looksLikeHost(first)) {
    const problem = registryHostProblem(first);
    if (problem !== undefined) throw new ReferenceSyntaxError(`invalid registry "${first}" in "${input}": ${problem}`);
    registry = first;
    parts.shift();
  }
  if (HUB_ALIASES.has(registry.toLowerCase())) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  for (const p of parts) {
    if (PATH_COMPONENT.test(p)) continue;
    if (PATH_COMPONENT.test(p.toLowerCase()))
      throw new ReferenceSyntaxError(`invalid repository name "${repository}" in "${input}": it must be lowercase`);
    throw new ReferenceSyntaxError(
      `invalid repository name "${repository}" in "${input}" (lowercase letters, digits and separators ".", "_", "__", "-" between them)`,
    );
  }
  if (registry.length + 1 + repository.length > NAME_MAX)
    throw new ReferenceSyntaxError(
      `invalid image reference "${input}": the name is longer than ${NAME_MAX} characters`,
    );
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

/** The canonical string form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * A registry name as users write it in flags (`--registry-certificate`, `--insecure-registry`,
 * `--registry-map`), in the form references use: Docker Hub's aliases become `docker.io`, as
 * Kaniko's `index.docker.io` keys name the same registry.
 */
export function canonicalRegistry(host: string): string {
  return HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host;
}

/** Where a `--registry-mirror` / `--registry-map` target sends pulls: a registry and an optional repository prefix. */
export interface MirrorTarget {
  registry: string;
  /** Prepended to the repository, e.g. `proxy` makes `library/busybox` `proxy/library/busybox`. */
  prefix: string;
}

/**
 * Parses a mirror as Kaniko's `parseRegistryMapping` does: `host[:port][/path/prefix]`, without a
 * URL scheme (Kaniko refuses one too). Throws {@link ReferenceSyntaxError}.
 */
export function parseMirror(spec: string): MirrorTarget {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec))
    throw new ReferenceSyntaxError(`"${spec}": a mirror is host[:port][/prefix], without a URL scheme`);
  const slash = spec.indexOf('/');
  const host = slash < 0 ? spec : spec.slice(0, slash);
  const prefix = slash < 0 ? '' : spec.slice(slash + 1).replace(/\/+$/, '');
  const problem = registryHostProblem(host);
  if (problem !== undefined) throw new ReferenceSyntaxError(`"${spec}": ${problem}`);
  if (prefix !== '' && !prefix.split('/').every((p) => PATH_COMPONENT.test(p)))
    throw new ReferenceSyntaxError(`"${spec}": invalid repository prefix "${prefix}"`);
  return { registry: canonicalRegistry(host), prefix };
}

/** `ref` as pulled through a mirror (Kaniko's `remapRepository`): same repository path, tag and digest, under the mirror's registry and prefix. */
export function remapReference(ref: Reference, mirror: MirrorTarget): Reference {
  const out: Reference = {
    registry: mirror.registry,
    repository: mirror.prefix ? `${mirror.prefix}/${ref.repository}` : ref.repository,
  };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}
