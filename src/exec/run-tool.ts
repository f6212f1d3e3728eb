/**
 * Runs a host program to completion and collects what it printed (the layer tools, runc's
 * housekeeping, the isolation probes). A program that cannot be started rejects; any exit status
 * resolves, for the caller to judge.
 */
import { spawn } from 'node:child_process';

/** What a tool run gave back: its exit status (null when killed), its output and its error text. */
export interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** How {@link runTool} runs a tool beyond its program and arguments. */
export interface RunToolOptions {
  /** Written to the tool's standard input, if given. */
  input?: Buffer;
  signal?: AbortSignal;
  /** If given, the tool's descriptor 3. */
  fd?: number;
  /** The tool's whole environment; default `LC_ALL=C` alone, so its messages are the ones matched. */
  env?: Record<string, string>;
}

/** Runs a tool. */
export function runTool(program: string, args: string[], opts: RunToolOptions = {}): Promise<Ran> {
  const { input, signal, fd, env = { LC_ALL: 'C' } } = opts;
  return new Promise((resolve, reject) => {
    // The first three are pipes either way (typed as the three-pipe form, whose streams are not null).
    const stdio = ['pipe', 'pipe', 'pipe', ...(fd === undefined ? [] : [fd])] as ['pipe', 'pipe', 'pipe'];
    const child = spawn(program, args, { stdio, env, ...(signal ? { signal } : {}) });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.stdin.on('error', () => undefined); // EPIPE when the tool exits early; its status says why
    child.stdin.end(input ?? Buffer.alloc(0));
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}
