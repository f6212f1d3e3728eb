/**
 * Manifest and index requests (OCI distribution spec: pulling manifests end-3, checking
 * existence with HEAD, pushing manifests end-7). Manifests are read whole, capped at 4 MiB,
 * and verified against the digest they were fetched by.
 */
import { IntegrityError } from '../errors.js';
import { isDigest, sha256Of, type Digest } from '../oci/digest.js';
import { isIndexMediaType, isManifestMediaType, MANIFEST_ACCEPT, MediaType } from '../oci/media-types.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { repositoryScope } from './auth.js';
import { discard, MANIFEST_MAX_BYTES, readAtMost } from './body.js';
import { protocolError, type FailureContext } from './failure.js';
import { checkRepository, checkTagOrDigest, looksLikeDigest, manifestPath } from './paths.js';
import type { Redactor } from './redact.js';
import type { Session } from './session.js';

/** A manifest or index as fetched: its exact bytes, media type and the sha256 of the bytes. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** What a HEAD of a manifest tells: enough to know whether a tag moved without downloading it. */
export interface ManifestHead {
  digest: Digest;
  mediaType: string;
  size: number;
}

const ACCEPT = MANIFEST_ACCEPT.join(', ');

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The media type of fetched manifest bytes: the `Content-Type` when it names a manifest or index
 * type, else the document's own `mediaType` field, else inferred from its shape (umoci and old
 * tools omit `mediaType`, ARCHITECTURE.md §6): `manifests` means an index, `config` and `layers` a manifest.
 */
export function manifestMediaType(contentType: string | undefined, bytes: Uint8Array): string {
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  if (isManifestMediaType(header) || isIndexMediaType(header)) return header ?? '';
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return header || 'application/octet-stream';
  }
  if (typeof doc === 'object' && doc !== null) {
    if ('mediaType' in doc && typeof doc.mediaType === 'string' && doc.mediaType !== '') return doc.mediaType;
    if ('manifests' in doc && Array.isArray(doc.manifests)) return MediaType.ociIndex;
    if ('config' in doc && 'layers' in doc) return MediaType.ociManifest;
  }
  return header || 'application/octet-stream';
}

function refId(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

function pullCtx(ref: Reference, action: string): FailureContext {
  return {
    action: `${action} ${formatReference(ref)}`,
    registry: ref.registry,
    repository: ref.repository,
    subject: 'manifest',
  };
}

/** GETs a manifest by digest (preferred when both are given) or tag; see {@link RegistryClient.getManifest}. */
export async function getManifest(
  session: Session,
  redactor: Redactor,
  ref: Reference,
  signal?: AbortSignal,
): Promise<FetchedManifest> {
  const id = refId(ref);
  checkRepository(ref.registry, ref.repository);
  checkTagOrDigest(ref.registry, id);
  const ctx = pullCtx(ref, 'fetching manifest');
  const fetched = await session.fetch(
    {
      registry: ref.registry,
      method: 'GET',
      target: manifestPath(ref.repository, id),
      headers: { accept: ACCEPT },
      scopes: [repositoryScope(ref.repository, 'pull')],
      expect: [200],
      ctx,
      retry: true,
      signal,
    },
    async (res) => ({
      ...(await readAtMost(res.body, MANIFEST_MAX_BYTES)),
      contentType: headerValue(res.headers['content-type']),
    }),
  );
  if (fetched.truncated)
    throw protocolError(`the manifest is larger than ${MANIFEST_MAX_BYTES} bytes`, ctx, redactor, 200);
  const digest = sha256Of(fetched.bytes);
  if (ref.digest !== undefined) {
    // By digest, the bytes must hash to it (distribution spec "Pulling manifests": clients verify).
    if (!ref.digest.startsWith('sha256:')) {
      throw new IntegrityError(
        `${ctx.action}: cannot verify digest algorithm "${ref.digest.split(':')[0] ?? ''}" (only sha256 is supported)`,
      );
    }
    if (ref.digest !== digest) {
      throw new IntegrityError(`${ctx.action}: digest mismatch: the registry sent content with digest ${digest}`);
    }
  }
  return { bytes: fetched.bytes, mediaType: manifestMediaType(fetched.contentType, fetched.bytes), digest };
}

/**
 * HEADs a manifest: its digest (`Docker-Content-Digest`), media type and size, or undefined when
 * the registry does not have it. Falls back to a GET when the registry omits the digest header.
 */
export async function headManifest(
  session: Session,
  redactor: Redactor,
  ref: Reference,
  signal?: AbortSignal,
): Promise<ManifestHead | undefined> {
  const id = refId(ref);
  checkRepository(ref.registry, ref.repository);
  checkTagOrDigest(ref.registry, id);
  const ctx = pullCtx(ref, 'checking manifest');
  const res = await session.send({
    registry: ref.registry,
    method: 'HEAD',
    target: manifestPath(ref.repository, id),
    headers: { accept: ACCEPT },
    scopes: [repositoryScope(ref.repository, 'pull')],
    expect: [200, 404],
    ctx,
    retry: true,
    signal,
  });
  await discard(res.body);
  if (res.status === 404) return undefined;
  const digest = headerValue(res.headers['docker-content-digest']);
  const size = Number(headerValue(res.headers['content-length']));
  const contentType = headerValue(res.headers['content-type'])?.split(';')[0]?.trim();
  if (digest !== undefined && isDigest(digest) && Number.isSafeInteger(size) && contentType) {
    return { digest, mediaType: contentType, size };
  }
  const m = await getManifest(session, redactor, ref, signal);
  return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
}

/** Where {@link putManifest} puts a manifest: a repository, under a tag or a digest. */
export interface ManifestTarget {
  registry: string;
  repository: string;
  tagOrDigest: string;
}

/** A manifest's bytes as they are pushed, and its media type (the request's Content-Type). */
export interface ManifestBody {
  bytes: Uint8Array;
  mediaType: string;
}

/** PUTs a manifest under a tag or digest; see {@link RegistryClient.putManifest}. */
export async function putManifest(
  session: Session,
  target: ManifestTarget,
  manifest: ManifestBody,
  signal?: AbortSignal,
): Promise<Digest> {
  const { bytes, mediaType } = manifest;
  const { registry, repository, tagOrDigest } = target;
  checkRepository(registry, repository);
  checkTagOrDigest(registry, tagOrDigest);
  const name = `${registry}/${repository}${looksLikeDigest(tagOrDigest) ? '@' : ':'}${tagOrDigest}`;
  const res = await session.send({
    registry,
    method: 'PUT',
    target: manifestPath(repository, tagOrDigest),
    headers: { 'content-type': mediaType },
    body: bytes,
    scopes: [repositoryScope(repository, 'pull,push')],
    // The spec answers 201 Created; some registries say 200.
    expect: [200, 201],
    ctx: { action: `pushing ${name}`, registry, repository, subject: 'manifest' },
    // Re-putting the same bytes under the same name is idempotent.
    retry: true,
    signal,
  });
  await discard(res.body);
  const reported = headerValue(res.headers['docker-content-digest']);
  return reported !== undefined && isDigest(reported) ? reported : sha256Of(bytes);
}
