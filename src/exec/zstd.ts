/**
 * zstd for layers through the host's `zstd` program (Debian package zstd; Node 20's zlib has no
 * zstd and the npm bindings download or compile native code): a streaming filter, bytes in on
 * stdin and out on stdout, never held in memory. Compression is single-threaded (`-T1`) so that
 * the output depends only on the input, the level and zstd's version.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import { externalDecompressor } from './decompress.js';

/** A zstd filter process as a Duplex; a failure (non-zero exit) errors the stream with zstd's message. */
function zstdFilter(program: string, args: string[], signal?: AbortSignal): Duplex {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  // The output ends only once zstd exited 0, so a failure is an error, never a short stream.
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.stdin.on('error', () => undefined); // EPIPE when zstd exits early; the exit status says why
  child.once('error', (err) => duplex.destroy(new Error(`${program}: ${err.message}`, { cause: err })));
  child.once('close', (code, sig) => {
    if (code === 0) out.end();
    else if (!duplex.destroyed) duplex.destroy(new Error(`zstd ${args.join(' ')} failed (${sig ?? `exit ${String(code)}`}): ${stderr.trim()}`));
  });
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return duplex;
}

/** A ZstdCodec (see `layers/tools.ts`) on the `zstd` program at `program`, found on `pathEnv`. */
export function zstdCodec(program: string, pathEnv: string): { compress(level: number, signal?: AbortSignal): Duplex; decompress(signal?: AbortSignal): Duplex } {
  return {
    compress: (level, signal) => zstdFilter(program, ['-q', '-c', '-T1', ...(level > 19 ? ['--ultra'] : []), `-${level}`], signal),
    decompress: (signal) => externalDecompressor('zstd', { PATH: pathEnv }, signal),
  };
}
