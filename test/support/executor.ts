/**
 * Runs the compiled Kiln CLI (`bin/executor`) as users do, plus fixture and temp-dir helpers for
 * end-to-end tests.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The outcome of one executor run; `exitCode` is null when it was killed (timeout or signal). */
export interface ExecutorResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runExecutor}. */
export interface ExecutorOptions {
  /** Added to a minimal environment (PATH, HOME, TMPDIR); the test runner's own env is not passed. */
  env?: Record<string, string>;
  cwd?: string;
  /** Killed with SIGKILL after this long; default 110 s (the test timeout is 120 s). */
  timeoutMs?: number;
  /** Written to stdin, e.g. a context tarball for `--context tar://stdin`. */
  input?: string | Buffer;
  /** A command that runs `node bin/executor …` for us, e.g. {@link WITHOUT_SYS_ADMIN}. */
  prefix?: readonly string[];
}

/**
 * Runs the executor without CAP_SYS_ADMIN, as in a container with default capabilities, so Kiln
 * picks chroot isolation: capsh drops it from the bounding set and execs bash, whose `exec`
 * replaces itself with the executor (the very process then lacks the capability).
 */
export const WITHOUT_SYS_ADMIN: readonly string[] = ['capsh', '--drop=cap_sys_admin', '--', '-c', 'exec "$0" "$@"'];

/** Spawns `node bin/executor ...args` and collects its output; never throws on a non-zero exit. */
export async function runExecutor(args: string[], opts: ExecutorOptions = {}): Promise<ExecutorResult> {
  const bin = join(REPO, 'bin', 'executor');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build Kiln first (npm run build)`);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  const [cmd = '', ...argv] = [...(opts.prefix ?? []), process.execPath, bin, ...args];
  const child = spawn(cmd, argv, {
    cwd: opts.cwd ?? REPO,
    env: { ...env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => undefined); // the executor may exit without reading stdin
  child.stdin.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 110_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  }).finally(() => clearTimeout(timer));
  const stderr = Buffer.concat(err).toString() + (timedOut ? `\n[harness: killed after ${timeoutMs} ms]\n` : '');
  return { exitCode, stdout: Buffer.concat(out).toString(), stderr };
}

/** Absolute path under `<repo>/fixtures/`. */
export function fixture(...parts: string[]): string {
  return join(REPO, 'fixtures', ...parts);
}

/** A fresh directory under the OS temp dir, removed when the current test finishes. Call inside a test. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `kiln-${prefix}-`));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
