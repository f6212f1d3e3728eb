/**
 * BuildOptions: the validated form of the executor's flags (Kaniko's names and defaults,
 * ARCHITECTURE.md §9). `cli/` collects raw strings with commander; {@link parseBuildOptions} turns them
 * into this, or throws a UsageError saying which flag is wrong and why.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { parseReference, ReferenceSyntaxError, type Reference } from '../oci/reference.js';
import { parsePlatform, type Platform } from '../oci/platform.js';
import { layerRawShape, parseLayerOptions, type LayerOptions } from './layer-options.js';
import { parseSecretFlags, type SecretSource } from './secret-options.js';
import { parseRegistryOptions, registryRawShape, type RegistryOptions } from './registry-options.js';
import { parseRootfsOptions, rootfsRawShape, type RootfsOptions } from './rootfs-options.js';
import { cacheRawShape, parseCacheOptions, type CacheOptions } from './cache-options.js';
import { parseContextSource, type ContextSource } from './context-spec.js';

/** Flag values exactly as the command line gave them. */
export const rawOptionsSchema = z.object({
  dockerfile: z.string().default('Dockerfile'),
  context: z.string().default('/workspace/'),
  contextSubPath: z.string().optional(),
  /** Kaniko's `--git` options for a git:// context. */
  git: z.string().optional(),
  /** Kaniko's `-b/--bucket`: the context is `gs://BUCKET/context.tar.gz`. */
  bucket: z.string().optional(),
  destination: z.array(z.string()).default([]),
  push: z.boolean().default(true),
  tarPath: z.string().optional(),
  ociLayoutPath: z.string().optional(),
  digestFile: z.string().optional(),
  imageNameWithDigestFile: z.string().optional(),
  imageNameTagWithDigestFile: z.string().optional(),
  buildArg: z.array(z.string()).default([]),
  label: z.array(z.string()).default([]),
  customPlatform: z.string().optional(),
  target: z.string().optional(),
  skipUnusedStages: z.boolean().default(false),
  ...registryRawShape,
  ...layerRawShape,
  ...rootfsRawShape,
  ...cacheRawShape,
  verbosity: z.enum(LOG_LEVELS).default('info'),
  logFormat: z.enum(LOG_FORMATS).default('color'),
  logTimestamp: z.boolean().default(false),
  kanikoDir: z.string().optional(),
  secret: z.array(z.string()).default([]),
});
export type RawOptions = z.input<typeof rawOptionsSchema>;

export interface BuildOptions extends RegistryOptions, LayerOptions, RootfsOptions {
  /** Path of the Dockerfile as given (resolved against the context by the executor). */
  dockerfile: string;
  /** Where the context comes from (`--context`, `--bucket`, `--git`, `--context-sub-path`). */
  context: ContextSource;
  /** A local context's directory (the `dir://` prefix removed, `--context-sub-path` joined); undefined for a fetched one. */
  contextDir?: string;
  destinations: Reference[];
  push: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  /** `--image-name-tag-with-digest-file`: `REPO:TAG@DIGEST` of each destination, a line each. */
  imageNameTagWithDigestFile?: string;
  /** `--build-arg` values; a bare `KEY` took its value from the environment. */
  buildArgs: Map<string, string>;
  labels: Map<string, string>;
  platform?: Platform;
  /** `--target`: the stage to build (default the last). */
  target?: string;
  /** `--skip-unused-stages`: build only the stages the target needs (Kaniko builds all before it by default). */
  skipUnusedStages: boolean;
  verbosity: (typeof LOG_LEVELS)[number];
  logFormat: (typeof LOG_FORMATS)[number];
  logTimestamp: boolean;
  /** `--kaniko-dir`, else `KANIKO_DIR` (Kaniko: the flag takes precedence over the variable). */
  kanikoDir?: string;
  /** `--secret id=ID,src=PATH|env=VAR`: build secrets for `RUN --mount=type=secret`, by id (names and paths only). */
  secrets: Map<string, SecretSource>;
  /** Kaniko's layer cache flags (`--cache`, `--cache-repo`, `--cache-dir`, `--cache-ttl`…). */
  cache: CacheOptions;
}

function keyValues(
  flag: string,
  values: string[],
  env: Record<string, string | undefined>,
  allowBare: boolean,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw new UsageError(`${flag} "${v}": the name before "=" is empty`);
    if (eq < 0) {
      if (!allowBare) throw new UsageError(`${flag} "${v}": expected KEY=VALUE`);
      // Kaniko and docker: `--build-arg KEY` takes the value from the environment, and is dropped when unset.
      const fromEnv = env[v];
      if (fromEnv !== undefined) out.set(v, fromEnv);
      continue;
    }
    out.set(v.slice(0, eq), v.slice(eq + 1));
  }
  return out;
}

function reference(flag: string, value: string): Reference {
  try {
    return parseReference(value);
  } catch (err) {
    if (err instanceof ReferenceSyntaxError) throw new UsageError(`${flag} "${value}": ${err.message}`);
    throw err;
  }
}

/**
 * Kaniko's rule (cmd/executor/cmd/root.go): a file of image names needs destinations to name,
 * with or without --no-push; Kiln would otherwise write an empty file.
 */
function checkNameFiles(o: {
  destination: string[];
  imageNameWithDigestFile?: string | undefined;
  imageNameTagWithDigestFile?: string | undefined;
}): void {
  if (o.destination.length > 0) return;
  for (const [flag, file] of [
    ['--image-name-with-digest-file', o.imageNameWithDigestFile],
    ['--image-name-tag-with-digest-file', o.imageNameTagWithDigestFile],
  ] as const) {
    if (file !== undefined)
      throw new UsageError(
        `you must provide --destination if setting ${flag}: the file names each destination with the image digest`,
        {
          hint: `add --destination REPO[:TAG] (with --no-push nothing is pushed), or use --digest-file for the digest alone`,
        },
      );
  }
}

/**
 * Validates raw flag values; `env` supplies bare `--build-arg KEY` values, `KANIKO_NO_PUSH` and
 * `KANIKO_DIR` (the default of `--kaniko-dir`).
 */
export function parseBuildOptions(raw: RawOptions, env: Record<string, string | undefined>): BuildOptions {
  const parsed = rawOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue ? `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'flags';
    throw new UsageError(`invalid ${flag}: ${issue?.message ?? 'invalid value'}`);
  }
  const o = parsed.data;
  const push = o.push && !['true', '1'].includes((env.KANIKO_NO_PUSH ?? '').toLowerCase());
  if (push && o.destination.length === 0) {
    throw new UsageError('no --destination given: name one or more images to push, or pass --no-push', {
      hint: 'e.g. --destination registry.example.com/app:1.0, or --no-push --tar-path image.tar',
    });
  }
  let platform: Platform | undefined;
  if (o.customPlatform !== undefined) {
    platform = parsePlatform(o.customPlatform);
    if (!platform)
      throw new UsageError(`--custom-platform "${o.customPlatform}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const context = parseContextSource(o);
  checkNameFiles(o);
  const destinations = o.destination.map((d) => reference('--destination', d));
  const result: BuildOptions = {
    dockerfile: o.dockerfile,
    context,
    ...(context.spec.kind === 'dir' ? { contextDir: context.spec.path } : {}),
    destinations,
    push,
    cache: parseCacheOptions(o, destinations),
    buildArgs: keyValues('--build-arg', o.buildArg, env, true),
    labels: keyValues('--label', o.label, env, false),
    skipUnusedStages: o.skipUnusedStages,
    secrets: parseSecretFlags(o.secret, env),
    ...parseRegistryOptions(o, env),
    ...parseLayerOptions(o, env),
    ...parseRootfsOptions(o),
    verbosity: o.verbosity,
    logFormat: o.logFormat,
    logTimestamp: o.logTimestamp,
  };
  if (o.tarPath !== undefined) result.tarPath = o.tarPath;
  if (o.ociLayoutPath !== undefined) result.ociLayoutPath = o.ociLayoutPath;
  if (o.digestFile !== undefined) result.digestFile = o.digestFile;
  if (o.imageNameWithDigestFile !== undefined) result.imageNameWithDigestFile = o.imageNameWithDigestFile;
  if (o.imageNameTagWithDigestFile !== undefined) result.imageNameTagWithDigestFile = o.imageNameTagWithDigestFile;
  if (platform) result.platform = platform;
  if (o.target !== undefined) result.target = o.target;
  // Kaniko's config.KanikoDir is KANIKO_DIR when set; the flag, when given, wins. An empty
  // variable names no directory.
  const kanikoDir = o.kanikoDir ?? (env.KANIKO_DIR || undefined);
  if (kanikoDir !== undefined) result.kanikoDir = kanikoDir;
  return result;
}
