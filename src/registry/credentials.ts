/**
 * Credentials from Docker's client configuration, `$DOCKER_CONFIG/config.json` (default
 * `~/.docker/config.json`), as docker/cli's configfile package reads it: `credHelpers` for the
 * registry, else `credsStore`, else (or when the helper has nothing) the `auths` entry. Keys of
 * `auths` may be URLs (`https://index.docker.io/v1/` is Docker Hub's) and are matched by host.
 */
import { Buffer } from 'node:buffer';
import { readFile as fsReadFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { errnoCode, RegistryError } from '../errors.js';
import type { BuiltinHelpers } from './cloud/builtin-helpers.js';
import {
  BUILTIN_HELPERS,
  credentialsFromHelper,
  spawnHelperRunner,
  type CredentialHelperRunner,
} from './credential-helper.js';
import type { Credential, CredentialProvider } from './types.js';

const authEntrySchema = z.looseObject({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
  registrytoken: z.string().optional(),
});
export type DockerAuthEntry = z.infer<typeof authEntrySchema>;

const dockerConfigSchema = z.looseObject({
  auths: z.record(z.string(), authEntrySchema).optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
/** The parts of config.json that concern credentials. */
export type DockerConfig = z.infer<typeof dockerConfigSchema>;

/** Docker Hub's historical server address, the key `docker login` writes. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Why config.json could not be used; the provider rewords it per registry. */
export class DockerConfigError extends Error {}

/** Path of config.json: `$DOCKER_CONFIG/config.json` (or `$DOCKER_CONFIG` itself when it names a .json file), else `~/.docker/config.json`. */
export function dockerConfigPath(env: Record<string, string | undefined>, homeDir: string): string {
  const dir = env.DOCKER_CONFIG;
  if (dir !== undefined && dir !== '') return dir.endsWith('.json') ? dir : join(dir, 'config.json');
  return join(homeDir, '.docker', 'config.json');
}

/** Parses config.json text. Throws {@link DockerConfigError} (never quoting the text, which holds secrets). */
export function parseDockerConfig(text: string): DockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DockerConfigError('it is not valid JSON');
  }
  const r = dockerConfigSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new DockerConfigError(
      `unexpected content at ${issue ? issue.path.join('.') || '(top level)' : '(top level)'}`,
    );
  }
  return r.data;
}

/** docker/cli's `ConvertToHostname`: drops the scheme and any path, `https://index.docker.io/v1/` → `index.docker.io`. */
export function convertToHostname(key: string): string {
  const stripped = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return (stripped.split('/')[0] ?? '').toLowerCase();
}

function sameServer(key: string, registry: string): boolean {
  const host = convertToHostname(key);
  const reg = registry.toLowerCase();
  return HUB_HOSTS.has(reg) ? HUB_HOSTS.has(host) : host === reg;
}

/** The address a registry's credentials are stored under (what a helper is asked for). */
export function serverAddress(registry: string): string {
  return HUB_HOSTS.has(registry.toLowerCase()) ? DOCKER_HUB_SERVER : registry;
}

/** Decodes an `auths` entry: base64 `auth` ("user:password"), or username/password, identitytoken, registrytoken. */
export function decodeAuthEntry(entry: DockerAuthEntry): Credential | undefined {
  const c: Credential = {};
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new DockerConfigError('an "auth" value is not base64 of "username:password"');
    c.username = decoded.slice(0, colon);
    c.password = decoded.slice(colon + 1);
  } else {
    if (entry.username) c.username = entry.username;
    if (entry.password) c.password = entry.password;
  }
  if (entry.identitytoken) c.identityToken = entry.identitytoken;
  if (entry.registrytoken) c.registryToken = entry.registrytoken;
  return Object.keys(c).length === 0 ? undefined : c;
}

/** The `auths` entry for a registry: the exact key first (docker/cli's file store), then any key with the same host. */
export function findAuthEntry(config: DockerConfig, registry: string): Credential | undefined {
  const auths = config.auths ?? {};
  const exact = auths[serverAddress(registry)] ?? auths[registry];
  if (exact !== undefined) {
    const c = decodeAuthEntry(exact);
    if (c !== undefined) return c;
  }
  for (const [key, entry] of Object.entries(auths)) {
    if (!sameServer(key, registry)) continue;
    const c = decodeAuthEntry(entry);
    if (c !== undefined) return c;
  }
  return undefined;
}

/** The helper configured for a registry: its `credHelpers` entry, else `credsStore`. */
export function findHelper(config: DockerConfig, registry: string): string | undefined {
  return findHelperEntry(config, registry)?.name;
}

/** {@link findHelper}, and whether `credHelpers` names it for this very registry (`explicit`) rather than `credsStore` for all. */
export function findHelperEntry(
  config: DockerConfig,
  registry: string,
): { name: string; explicit: boolean } | undefined {
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (sameServer(key, registry) && helper !== '') return { name: helper, explicit: true };
  }
  return config.credsStore !== undefined && config.credsStore !== ''
    ? { name: config.credsStore, explicit: false }
    : undefined;
}

/** Inputs of {@link dockerConfigCredentials}: everything comes from the caller. */
export interface DockerConfigOptions {
  env: Record<string, string | undefined>;
  homeDir: string;
  /** Reads a file as UTF-8; rejects with ENOENT when missing. Default: node:fs. */
  readFile?: (path: string) => Promise<string>;
  /** Runs credential helpers. Default: spawn with `env`. */
  runHelper?: CredentialHelperRunner;
  /** CA certificates (PEM) the built-in helpers trust besides Node's roots (SSL_CERT_DIR, registry/trust.ts). */
  trustedCas?: readonly string[];
  /** Makes the built-in helpers (registry/cloud/). Default: loads them with `import()` on first use. */
  builtinHelpers?: () => Promise<BuiltinHelpers>;
}

/**
 * Reads $DOCKER_CONFIG/config.json (default ~/.docker/config.json) once, lazily: `auths` (base64
 * `auth` or username/password, identitytoken; keys may be URLs like https://index.docker.io/v1/
 * for docker.io), `credHelpers`, `credsStore` (runs `docker-credential-<name> get`). A missing
 * file means no credentials. `origin` names the file (and helper) for refusals.
 */
export function dockerConfigCredentials(opts: DockerConfigOptions): CredentialProvider {
  const path = dockerConfigPath(opts.env, opts.homeDir);
  const read = opts.readFile ?? ((p: string) => fsReadFile(p, 'utf8'));
  const run = opts.runHelper ?? spawnHelperRunner(opts.env);
  let loaded: Promise<DockerConfig | undefined> | undefined;
  // Registries whose credentials a helper supplied, so a refusal names the helper rather than the file.
  const fromHelper = new Set<string>();
  // Registries served by a built-in helper, so a refusal says so rather than naming a program.
  const fromBuiltin = new Set<string>();
  // The build's built-in helpers, made once: they cache tokens for this build only.
  let builtins: Promise<BuiltinHelpers> | undefined;
  const makeBuiltins =
    opts.builtinHelpers ??
    (async () => {
      // Loaded only when config.json names one of them and its program is missing.
      const m = await import('./cloud/builtin-helpers.js');
      return new m.BuiltinHelpers({ env: opts.env, homeDir: opts.homeDir, trustedCas: opts.trustedCas ?? [] });
    });
  const load = (): Promise<DockerConfig | undefined> =>
    (loaded ??= read(path).then(
      (text) => parseDockerConfig(text),
      (err: unknown) => {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
        throw err;
      },
    ));
  return {
    async get(registry) {
      let config: DockerConfig | undefined;
      try {
        config = await load();
      } catch (err) {
        const why =
          err instanceof DockerConfigError
            ? err.message
            : (errnoCode(err) ?? (err instanceof Error ? err.message : String(err)));
        throw new RegistryError(
          `reading credentials for ${registry} from ${path}: ${why}`,
          { registry },
          { cause: err instanceof DockerConfigError ? undefined : err },
        );
      }
      if (config === undefined) return undefined;
      const helper = findHelperEntry(config, registry);
      if (helper !== undefined) {
        const { name, explicit } = helper;
        const builtin = BUILTIN_HELPERS.has(name)
          ? async () => {
              fromBuiltin.add(registry);
              return (await (builtins ??= makeBuiltins())).get(name, registry, explicit);
            }
          : undefined;
        const got = await credentialsFromHelper(run, name, serverAddress(registry), registry, builtin);
        if (got !== undefined) {
          fromHelper.add(registry);
          return got;
        }
      }
      try {
        return findAuthEntry(config, registry);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new RegistryError(`reading credentials for ${registry} from ${path}: ${why}`, { registry });
      }
    },
    async origin(registry) {
      const config = await load().catch(() => undefined);
      const helper = config !== undefined ? findHelper(config, registry) : undefined;
      return {
        path,
        found: config !== undefined,
        ...(helper !== undefined
          ? {
              helper: fromBuiltin.has(registry) ? `${helper} (built into Kiln)` : `docker-credential-${helper}`,
              fromHelper: fromHelper.has(registry),
            }
          : {}),
      };
    },
  };
}
