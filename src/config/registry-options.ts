/**
 * The registry tier of Kaniko's flags (ARCHITECTURE.md §9): plain HTTP, TLS, mirrors, retries and push
 * checks. Raw values come from the command line (and Kaniko's `KANIKO_REGISTRY_MIRROR` /
 * `KANIKO_REGISTRY_MAP`); {@link parseRegistryOptions} validates them. Registry names are
 * compared in reference form, so `index.docker.io` in a flag means `docker.io`.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import {
  canonicalRegistry,
  DOCKER_HUB,
  parseMirror,
  ReferenceSyntaxError,
  registryHostProblem,
  type MirrorTarget,
} from '../oci/reference.js';

/** A retry count given as a flag value (`--push-retry 3`, `--push-retry=3`). */
const count = z.coerce.number().int().min(0).max(100).default(0);

export const registryRawShape = {
  insecure: z.boolean().default(false),
  insecurePull: z.boolean().default(false),
  insecureRegistry: z.array(z.string()).default([]),
  skipTlsVerify: z.boolean().default(false),
  skipTlsVerifyPull: z.boolean().default(false),
  skipTlsVerifyRegistry: z.array(z.string()).default([]),
  skipPushPermissionCheck: z.boolean().default(false),
  registryCertificate: z.array(z.string()).default([]),
  registryClientCert: z.array(z.string()).default([]),
  registryMirror: z.array(z.string()).default([]),
  registryMap: z.array(z.string()).default([]),
  skipDefaultRegistryFallback: z.boolean().default(false),
  pushRetry: count,
  imageDownloadRetry: count,
  imageFsExtractRetry: count,
  pushIgnoreImmutableTagErrors: z.boolean().default(false),
  networkTimeout: z.string().optional(),
};

type RegistryRaw = z.output<z.ZodObject<typeof registryRawShape>>;

/** Client certificate and key files for mutual TLS with one registry. */
export interface ClientCertFiles {
  cert: string;
  key: string;
}

export interface RegistryOptions {
  /** Registries that may be reached over plain HTTP, for pulls and pushes separately. */
  insecurePull: (registry: string) => boolean;
  insecurePush: (registry: string) => boolean;
  skipTlsVerifyPull: (registry: string) => boolean;
  skipTlsVerifyPush: (registry: string) => boolean;
  skipPushPermissionCheck: boolean;
  /** `--registry-certificate`: registry → PEM file of a CA trusted for it, besides the system CAs. */
  registryCertificates: ReadonlyMap<string, string>;
  /** `--registry-client-cert`: registry → client certificate and key files. */
  registryClientCertificates: ReadonlyMap<string, ClientCertFiles>;
  /**
   * `--registry-map` then `--registry-mirror` (Kaniko merges mirrors into the map under Docker
   * Hub): registry → mirrors tried in order before the registry itself.
   */
  registryMaps: ReadonlyMap<string, readonly MirrorTarget[]>;
  /** Fail when every mirror of a registry failed, instead of pulling from the registry itself. */
  skipDefaultRegistryFallback: boolean;
  /** Retries of a whole push (Kaniko's `--push-retry`; backoff 1 s, 2 s, 4 s, …). */
  pushRetry: number;
  /** Retries of fetching a base image's manifest and config (`--image-download-retry`). */
  imageDownloadRetry: number;
  /**
   * Retries of pulling a base image's layers (Kaniko's `--image-fs-extract-retry`, which retries
   * the whole download and extraction of the base filesystem): each layer's download is tried
   * again after its requests' own retries are spent. Extraction reads the verified blob from the
   * local store, where a failure would only repeat.
   */
  imageFsExtractRetry: number;
  /** Treat a registry's "tag is immutable" refusal of a manifest as success, with a warning. */
  pushIgnoreImmutableTagErrors: boolean;
  /**
   * `--network-timeout`: how long a registry or `ADD <url>` request may wait to connect, for the
   * response headers, and between two chunks of a body, in milliseconds. Undefined: Kiln's
   * defaults (30 s to connect, 60 s for the other two).
   */
  networkTimeoutMs?: number;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go's `time.ParseDuration` writes it (`30s`, `1m30s`, `1.5s`, `500ms`), as
 * Kaniko's duration flags take it; a bare number is seconds. Returns milliseconds, or undefined
 * when malformed.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g))
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return ms;
}

/** `--network-timeout`: at least a millisecond, at most a day. */
function networkTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1 || ms > 86_400_000) {
    throw new UsageError(
      `--network-timeout "${value}": expected a duration from 1ms to 24h, e.g. 30s, 2m or 90 (seconds)`,
    );
  }
  return Math.round(ms);
}

function host(flag: string, value: string, name: string): string {
  const problem = registryHostProblem(name);
  if (problem !== undefined)
    throw new UsageError(`${flag} "${value}": ${problem}`, {
      hint: `${flag} takes a registry as host[:port], e.g. registry.example.com:5000`,
    });
  return canonicalRegistry(name);
}

/** `REG=VALUE` as Kaniko's keyValueArg splits it (at the first "="). */
function keyValue(flag: string, value: string, example: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new UsageError(`${flag} "${value}": expected ${example}`);
  return [host(flag, value, value.slice(0, eq)), value.slice(eq + 1)];
}

function mirror(flag: string, value: string, spec: string): MirrorTarget {
  try {
    return parseMirror(spec);
  } catch (err) {
    if (err instanceof ReferenceSyntaxError)
      throw new UsageError(`${flag} "${value}": ${err.message.replace(/^"[^"]*": /, '')}`);
    throw err;
  }
}

function registrySet(values: string[]): Set<string> {
  return new Set(values.map(canonicalRegistry));
}

/**
 * Mirrors per registry. Kaniko's `--registry-map` takes `ORIG=MIRROR`, several separated by ";"
 * in one value, and `KANIKO_REGISTRY_MAP` in the same form; `--registry-mirror` (and
 * `KANIKO_REGISTRY_MIRROR`) adds mirrors of Docker Hub after the mapped ones.
 */
function registryMaps(o: RegistryRaw, env: Record<string, string | undefined>): Map<string, MirrorTarget[]> {
  const maps = new Map<string, MirrorTarget[]>();
  const add = (registry: string, target: MirrorTarget): void => {
    const list = maps.get(registry) ?? [];
    if (!list.some((t) => t.registry === target.registry && t.prefix === target.prefix)) list.push(target);
    maps.set(registry, list);
  };
  const mapValues: [string, string][] = [
    ...o.registryMap.map((v): [string, string] => ['--registry-map', v]),
    ...(env.KANIKO_REGISTRY_MAP ? [['KANIKO_REGISTRY_MAP', env.KANIKO_REGISTRY_MAP] as [string, string]] : []),
  ];
  for (const [flag, value] of mapValues) {
    for (const pair of value.split(';').filter((p) => p.trim() !== '')) {
      const [registry, target] = keyValue(
        flag,
        pair.trim(),
        'ORIGINAL=MIRROR, e.g. index.docker.io=mirror.example.com',
      );
      add(registry, mirror(flag, value, target));
    }
  }
  const mirrorValues: [string, string][] = [
    ...o.registryMirror.map((v): [string, string] => ['--registry-mirror', v]),
    ...(env.KANIKO_REGISTRY_MIRROR ? [['KANIKO_REGISTRY_MIRROR', env.KANIKO_REGISTRY_MIRROR] as [string, string]] : []),
  ];
  for (const [flag, value] of mirrorValues) {
    for (const spec of value.split(';').filter((p) => p.trim() !== ''))
      add(DOCKER_HUB, mirror(flag, value, spec.trim()));
  }
  return maps;
}

export function parseRegistryOptions(o: RegistryRaw, env: Record<string, string | undefined> = {}): RegistryOptions {
  const insecureRegs = registrySet(o.insecureRegistry);
  const skipTlsRegs = registrySet(o.skipTlsVerifyRegistry);
  const certificates = new Map(
    o.registryCertificate.map((v) =>
      keyValue('--registry-certificate', v, 'REGISTRY=CA_CERT_PATH, e.g. registry.example.com=/certs/ca.pem'),
    ),
  );
  const clientCerts = new Map<string, ClientCertFiles>();
  for (const v of o.registryClientCert) {
    const example = 'REGISTRY=CERT_PATH,KEY_PATH, e.g. registry.example.com=/certs/client.crt,/certs/client.key';
    const [registry, files] = keyValue('--registry-client-cert', v, example);
    const [cert, key, ...more] = files.split(',');
    if (!cert || !key || more.length > 0) throw new UsageError(`--registry-client-cert "${v}": expected ${example}`);
    clientCerts.set(registry, { cert, key });
  }
  return {
    insecurePull: (r) => o.insecurePull || insecureRegs.has(r),
    insecurePush: (r) => o.insecure || insecureRegs.has(r),
    skipTlsVerifyPull: (r) => o.skipTlsVerifyPull || skipTlsRegs.has(r),
    skipTlsVerifyPush: (r) => o.skipTlsVerify || skipTlsRegs.has(r),
    skipPushPermissionCheck: o.skipPushPermissionCheck,
    registryCertificates: certificates,
    registryClientCertificates: clientCerts,
    registryMaps: registryMaps(o, env),
    skipDefaultRegistryFallback: o.skipDefaultRegistryFallback,
    pushRetry: o.pushRetry,
    imageDownloadRetry: o.imageDownloadRetry,
    imageFsExtractRetry: o.imageFsExtractRetry,
    pushIgnoreImmutableTagErrors: o.pushIgnoreImmutableTagErrors,
    ...(o.networkTimeout === undefined ? {} : { networkTimeoutMs: networkTimeout(o.networkTimeout) }),
  };
}
