/**
 * zstd for layers through the host's `zstd` program (Debian package zstd; Node 20's zlib has no
 * zstd and the npm bindings download or compile native code): a streaming filter, bytes in on
 * stdin and out on stdout, never held in memory. Compression is single-threaded (`-T1`) so that
 * the output depends only on the input, the level and zstd's version.
 */
import type { Duplex } from 'node:stream';
import { externalDecompressor } from './decompress.js';
import { filterProcess } from './filter-process.js';

/** A zstd filter process as a Duplex; a failure (non-zero exit) errors the stream with zstd's message. */
function zstdFilter(program: string, args: string[], signal?: AbortSignal): Duplex {
  return filterProcess(
    program,
    args,
    {
      spawn: (err) => new Error(`${program}: ${err.message}`, { cause: err }),
      exit: (status, stderr) => new Error(`zstd ${args.join(' ')} failed (${status}): ${stderr}`),
    },
    signal ? { signal } : {},
  );
}

/** A ZstdCodec (see `layers/tools.ts`) on the `zstd` program at `program`, found on `pathEnv`. */
export function zstdCodec(
  program: string,
  pathEnv: string,
): { compress(level: number, signal?: AbortSignal): Duplex; decompress(signal?: AbortSignal): Duplex } {
  return {
    compress: (level, signal) =>
      zstdFilter(program, ['-q', '-c', '-T1', ...(level > 19 ? ['--ultra'] : []), `-${level}`], signal),
    decompress: (signal) => externalDecompressor('zstd', { PATH: pathEnv }, signal),
  };
}
