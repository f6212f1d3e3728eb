/**
 * Pushes an image to one or more registry destinations: every blob first (skipped when the
 * registry has it, cross-mounted when it lives in another repository of the same registry — the
 * base image's, or an earlier destination's), then the manifests last, so a failure never
 * leaves a half image under a tag (ARCHITECTURE.md §6). A {@link PushPolicy} adds Kaniko's
 * `--push-retry` and `--push-ignore-immutable-tag-errors`.
 */
import { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import { sha256Of, type Digest } from '../oci/digest.js';
import { imageDigest, type Image } from '../oci/image.js';
import { formatReference, type Reference } from '../oci/reference.js';
import type { RegistryClient } from '../registry/client.js';
import { retryOperation, type SleepFn } from '../registry/index.js';
import type { ImageSink } from './image-sink.js';

/** How pushes behave (Kaniko's push flags); the default pushes once and fails on any refusal. */
export interface PushPolicy {
  /** Retries of the whole push after a transient failure (`--push-retry`); blobs already there are not sent again. */
  retries: number;
  /** Waits between retries: 1 s, 2 s, 4 s… (Kaniko's `util.Retry(…, PushRetry, 1000)`) or the registry's Retry-After. */
  sleep: SleepFn;
  /** Treat a registry's refusal to overwrite an immutable tag as success (`--push-ignore-immutable-tag-errors`). */
  ignoreImmutableTagErrors: boolean;
}

/**
 * What registries say when a tag may not be overwritten, as Kaniko recognises them (its
 * `errTagImmutable`: Artifact Registry and ECR), plus Harbor's and Docker Hub's wording.
 */
const IMMUTABLE_TAG_MESSAGES = [
  'the repository has enabled tag immutability',
  'cannot be overwritten because the repository is immutable',
  'configured as immutable',
  'cannot be updated due to immutability settings',
];

/** Whether a failed manifest push is a registry refusing to move an immutable tag. */
export function isImmutableTagError(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  const text = err.message.toLowerCase();
  return IMMUTABLE_TAG_MESSAGES.some((m) => text.includes(m));
}

/** Where blobs went during this push, so later destinations of the same registry can mount them. */
type Pushed = Map<string, string>;

/** Where and how to push (Kaniko's destinations and push flags). */
export interface PushTarget {
  client: RegistryClient;
  /** Every destination gets the blobs first, then the manifests, in this order. */
  destinations: readonly Reference[];
  logger: Logger;
  /** Without one, the image is pushed once and any refusal fails it. */
  policy?: PushPolicy | undefined;
}

/** One attempt's state: the target, the abort signal and where each blob went. */
interface PushRun extends PushTarget {
  signal?: AbortSignal | undefined;
  pushed: Pushed;
}

interface BlobToPush {
  digest: Digest;
  size: number;
  origin?: { registry: string; repository: string } | undefined;
  open: () => Promise<Readable>;
}

async function pushBlob(run: PushRun, dest: Reference, blob: BlobToPush): Promise<void> {
  const { client, logger, signal, pushed } = run;
  const { registry, repository } = dest;
  const { digest, size } = blob;
  if (await client.hasBlob(registry, repository, digest, signal)) {
    logger.debug('blob already present', { destination: formatReference(dest), digest });
  } else {
    const sources = [blob.origin, { registry, repository: pushed.get(`${registry}\n${digest}`) ?? '' }];
    let mounted = false;
    for (const from of sources) {
      if (mounted || !from || from.registry !== registry || from.repository === '' || from.repository === repository)
        continue;
      mounted = await client.mountBlob({ registry, repository, digest }, from.repository, signal);
      if (mounted) logger.debug('blob mounted', { from: from.repository, into: repository, digest });
    }
    if (!mounted) {
      logger.debug('uploading blob', { destination: formatReference(dest), digest, size });
      await client.uploadBlob({ registry, repository, digest }, { size, open: blob.open }, signal);
    }
  }
  if (!pushed.has(`${registry}\n${digest}`)) pushed.set(`${registry}\n${digest}`, repository);
}

async function pushBlobs(run: PushRun, image: Image, dest: Reference): Promise<void> {
  for (const layer of image.layers) {
    const { digest, size } = layer.descriptor;
    await pushBlob(run, dest, { digest, size, origin: layer.origin, open: () => layer.open(run.signal) });
  }
  const config = Buffer.from(image.configBytes);
  await pushBlob(run, dest, {
    digest: sha256Of(config),
    size: config.length,
    open: async () => Readable.from([config]),
  });
}

async function pushOnce(target: PushTarget, image: Image, signal: AbortSignal | undefined): Promise<Digest> {
  const run: PushRun = { ...target, signal, pushed: new Map() };
  const { client, logger, policy } = run;
  for (const dest of target.destinations) await pushBlobs(run, image, dest);
  const digest = imageDigest(image);
  for (const dest of target.destinations) {
    try {
      await client.putManifest(
        { registry: dest.registry, repository: dest.repository, tagOrDigest: dest.tag ?? dest.digest ?? digest },
        { bytes: image.manifestBytes, mediaType: image.manifestMediaType },
        signal,
      );
    } catch (err) {
      if (policy?.ignoreImmutableTagErrors !== true || !isImmutableTagError(err)) throw err;
      logger.warn(
        `${formatReference(dest)} is immutable and was not overwritten (--push-ignore-immutable-tag-errors): ${(err as Error).message}`,
        { digest },
      );
      continue;
    }
    logger.info(`pushed ${formatReference(dest)}`, { digest });
  }
  return digest;
}

/** Pushes `image` to every destination, retrying the whole push as the policy allows; returns the image digest. */
export async function pushImage(
  opts: PushTarget & { image: Image; signal?: AbortSignal | undefined },
): Promise<Digest> {
  const { image, signal, policy, logger } = opts;
  if (policy === undefined || policy.retries === 0) return pushOnce(opts, image, signal);
  const onRetry = (reason: string, waitMs: number, attempt: number): void =>
    logger.warn(`push failed, retrying in ${waitMs} ms (--push-retry): ${reason}`, { attempt });
  return retryOperation({ retries: policy.retries, sleep: policy.sleep, signal, onRetry }, () =>
    pushOnce(opts, image, signal),
  );
}

/** The registry destinations as a sink; it reports every destination as pushed, one whose immutable tag was left alone included. */
export function registrySink(target: PushTarget): ImageSink {
  return {
    async write(image, signal) {
      const digest = await pushImage({ ...target, image, signal });
      return { digest, pushed: target.destinations.map(formatReference) };
    },
  };
}
