/**
 * Docker credential helpers (docker/docker-credential-helpers protocol): the program
 * `docker-credential-<name>` is run with the argument `get`, the server address on stdin, and
 * answers `{"ServerURL":…,"Username":…,"Secret":…}` on stdout. A Username of `<token>` marks the
 * Secret as an identity token. "credentials not found" means anonymous, not an error.
 */
import { spawn } from 'node:child_process';
import { RegistryError } from '../errors.js';
import type { Credential } from './types.js';

/** What running a helper produced. */
export interface HelperResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `program get` with `input` on stdin. Injectable so tests need no real helper. Rejects (ENOENT) when the program does not exist. */
export type CredentialHelperRunner = (program: string, args: string[], input: string) => Promise<HelperResult>;

const OUTPUT_CAP = 1024 * 1024;
const HELPER_TIMEOUT_MS = 60_000;

/**
 * The real runner: spawns the helper with exactly `env` (so PATH comes from the caller, not from
 * this process), killing it after 60 s.
 */
export function spawnHelperRunner(env: Record<string, string | undefined>): CredentialHelperRunner {
  return (program, args, input) =>
    new Promise((resolve, reject) => {
      const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        if (stdout.length < OUTPUT_CAP) stdout += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < OUTPUT_CAP) stderr += d.toString('utf8');
      });
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
      child.stdin.on('error', () => {
        // A helper that exits without reading stdin: its exit status tells what happened.
      });
      child.stdin.end(input);
    });
}

/** Parses a helper's `get` answer; undefined when it holds no usable credential. */
export function parseHelperOutput(stdout: string): Credential | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const username = 'Username' in json && typeof json.Username === 'string' ? json.Username : '';
  const secret = 'Secret' in json && typeof json.Secret === 'string' ? json.Secret : '';
  if (secret === '') return undefined;
  if (username === '<token>') return { identityToken: secret };
  return { username, password: secret };
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The helpers Kaniko's image ships as programs, which Kiln has built in (registry/cloud/): used
 * when config.json names one and no program of that name is on PATH.
 */
export const BUILTIN_HELPERS: ReadonlySet<string> = new Set(['ecr-login', 'gcr', 'gcloud', 'acr-env']);

/**
 * Asks helper `name` for the credentials of `server` (the address Docker stores them under).
 * Throws a RegistryError naming the helper when it is missing or fails for another reason than
 * "not found"; its stderr is quoted (first line) but never its stdout, which may hold a secret.
 * `builtin`, when given, answers instead of a program that is not on PATH: a program on PATH
 * always wins, so a user's own `docker-credential-ecr-login` (or a newer one) still runs.
 */
export async function credentialsFromHelper(
  run: CredentialHelperRunner,
  name: string,
  server: string,
  registry: string,
  builtin?: () => Promise<Credential | undefined>,
): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  const doing = `reading credentials for ${registry} from ${program}`;
  if (!HELPER_NAME.test(name)) throw new RegistryError(`${doing}: invalid helper name`, { registry });
  let result: HelperResult;
  try {
    result = await run(program, ['get'], server);
  } catch (err) {
    const missing = typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
    if (missing && builtin !== undefined) return builtin();
    throw new RegistryError(
      `${doing}: ${missing ? 'program not found on PATH' : err instanceof Error ? err.message : String(err)}`,
      { registry },
      {
        cause: err,
        hint: `install ${program}, or remove it from credsStore/credHelpers in $DOCKER_CONFIG/config.json`,
      },
    );
  }
  if (result.exitCode !== 0) {
    const said = `${result.stdout}\n${result.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    const line = result.stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
    throw new RegistryError(`${doing}: exited with status ${result.exitCode}${line ? `: ${line}` : ''}`, { registry });
  }
  return parseHelperOutput(result.stdout);
}
