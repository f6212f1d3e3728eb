/**
 * Runs one command under GNU `/usr/bin/time -v` and reads back wall time, CPU time and peak RSS.
 * Peak RSS is getrusage's ru_maxrss: the largest single process of the tree, not their sum.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';

export interface Measured {
  /** Exit status of the command (null when killed by a signal). */
  exitCode: number | null;
  wallS: number;
  /** User + system CPU seconds of the whole tree. */
  cpuS: number;
  rssMiB: number;
  /** The last lines of stderr, to show why a build failed. */
  stderrTail: string;
  /** Stderr lines that parse as JSON objects (Kiln's `--log-format json`). */
  jsonLines: Record<string, unknown>[];
}

export interface TimedOptions {
  cwd?: string;
  /** Where `/usr/bin/time` writes its report (deleted after reading). */
  timeFile: string;
  env?: NodeJS.ProcessEnv;
}

const TAIL_LINES = 30;

/** Runs `cmd args…` under `/usr/bin/time -v`; never rejects on a non-zero exit. */
export async function timed(cmd: string, args: string[], opts: TimedOptions): Promise<Measured> {
  const child = spawn('/usr/bin/time', ['-v', '-o', opts.timeFile, cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  const jsonLines: Record<string, unknown>[] = [];
  let partial = '';
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (line.startsWith('{')) {
      try {
        const v: unknown = JSON.parse(line);
        if (v && typeof v === 'object') jsonLines.push(v as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  if (partial) onLine(partial);
  const report = await readFile(opts.timeFile, 'utf8').catch(() => '');
  await rm(opts.timeFile, { force: true });
  const facts = parseTimeReport(report);
  // GNU time reports a failing command's status itself; its own exit code is the command's.
  return { exitCode, ...facts, stderrTail: tail.join('\n'), jsonLines };
}

/** Parses the `-v` report of GNU time. */
export function parseTimeReport(text: string): { wallS: number; cpuS: number; rssMiB: number } {
  const field = (label: string): string => {
    const line = text.split('\n').find((l) => l.trim().startsWith(label));
    return line ? line.slice(line.lastIndexOf(': ') + 2).trim() : '';
  };
  const wall = field('Elapsed (wall clock) time');
  // h:mm:ss or m:ss.ss
  const wallS = wall.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  const cpuS = Number(field('User time (seconds)')) + Number(field('System time (seconds)'));
  const rssMiB = Number(field('Maximum resident set size (kbytes)')) / 1024;
  return { wallS, cpuS, rssMiB };
}

/** Adds two measurements of consecutive commands (e.g. `buildah build` then `buildah push`). */
export function sequence(a: Measured, b: Measured): Measured {
  return {
    exitCode: a.exitCode === 0 ? b.exitCode : a.exitCode,
    wallS: a.wallS + b.wallS,
    cpuS: a.cpuS + b.cpuS,
    rssMiB: Math.max(a.rssMiB, b.rssMiB),
    stderrTail: b.stderrTail || a.stderrTail,
    jsonLines: [...a.jsonLines, ...b.jsonLines],
  };
}
