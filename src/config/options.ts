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

/** Flag values exactly as the command line gave them. */
export const rawOptionsSchema = z.object({
  dockerfile: z.string().default('Dockerfile'),
  context: z.string().default('/workspace/'),
  destination: z.array(z.string()).default([]),
  push: z.boolean().default(true),
  tarPath: z.string().optional(),
  ociLayoutPath: z.string().optional(),
  digestFile: z.string().optional(),
  imageNameWithDigestFile: z.string().optional(),
  buildArg: z.array(z.string()).default([]),
  label: z.array(z.string()).default([]),
  customPlatform: z.string().optional(),
  target: z.string().optional(),
  skipUnusedStages: z.boolean().default(false),
  ...registryRawShape,
  ...layerRawShape,
  ...rootfsRawShape,
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
  /** Context directory (the `dir://` prefix removed). */
  contextDir: string;
  destinations: Reference[];
  push: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
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
  kanikoDir?: string;
  /** `--secret id=ID,src=PATH|env=VAR`: build secrets for `RUN --mount=type=secret`, by id (names and paths only). */
  secrets: Map<string, SecretSource>;
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

/** Validates raw flag values; `env` supplies bare `--build-arg KEY` values and `KANIKO_NO_PUSH`. */
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
  const contextDir = o.context.startsWith('dir://') ? o.context.slice('dir://'.length) : o.context;
  if (/^[a-z0-9+.-]+:\/\//i.test(contextDir)) {
    throw new UsageError(`--context "${o.context}": only local directories (DIR or dir://DIR) are supported so far`);
  }
  const result: BuildOptions = {
    dockerfile: o.dockerfile,
    contextDir,
    destinations: o.destination.map((d) => reference('--destination', d)),
    push,
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
  if (platform) result.platform = platform;
  if (o.target !== undefined) result.target = o.target;
  if (o.kanikoDir !== undefined) result.kanikoDir = o.kanikoDir;
  return result;
}
