/**
 * Tarball contexts (issue 14): `tar://PATH` (a `.tar` or `.tar.gz` on this machine) and
 * `tar://stdin` (`tar cz . | executor --context tar://stdin …`, as `kubectl run --stdin` feeds
 * Kaniko). The bytes stream from the file or the pipe through ADD's archive code — compression
 * sniffed from the first bytes (commands/add-archive.ts), entries written by ArchiveWriter —
 * into the context directory, never held whole. A context archive is untrusted input as a base
 * layer is (ARCHITECTURE.md §7): an entry named `../x` or `/x`, or one written through a symlink
 * leading out of the context, stops the build with exit 5 rather than being clamped inside, as
 * ADD does, since a context is a directory of the host and not an image root.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { decompressedStream } from '../commands/add-archive.js';
import type { ContextFetcher, EntryListener } from './remote-context.js';
import { BuildError, ContextError, errnoCode, IntegrityError, UsageError } from '../errors.js';
import { DecompressorFailed } from '../exec/decompress.js';
import { unpackArchive } from '../layers/unpack-archive.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { BuildEnv } from './build-env.js';

/**
 * Unpacks the (plain or compressed) tar `bytes` into `into`, the empty context directory; every
 * message names the context as `display`. A corrupt archive, or an entry reaching outside the
 * directory, is an IntegrityError (exit 5).
 */
export async function unpackContext(
  bytes: Readable,
  into: string,
  env: BuildEnv,
  display: string,
  onEntry?: EntryListener,
): Promise<void> {
  const subject = `context ${display}`;
  // A stream that stalls (a pipe, a quiet server) must not outlive a build that stopped.
  const stop = (): void => void bytes.destroy(env.signal.reason instanceof Error ? env.signal.reason : undefined);
  env.signal.throwIfAborted();
  env.signal.addEventListener('abort', stop, { once: true });
  try {
    await unpack(bytes, into, env, subject, display, onEntry);
  } finally {
    env.signal.removeEventListener('abort', stop);
  }
}

async function unpack(
  bytes: Readable,
  into: string,
  env: BuildEnv,
  subject: string,
  display: string,
  onEntry?: EntryListener,
): Promise<void> {
  let tar: Readable;
  try {
    tar = await decompressedStream(bytes, { logger: env.logger, signal: env.signal, env: env.env });
  } catch (err) {
    bytes.destroy();
    if (err instanceof BuildError || env.signal.aborted) throw err;
    if (err instanceof DecompressorFailed && err.missingProgram)
      throw new UsageError(`${subject}: ${err.message}`, { cause: err });
    const why = err instanceof Error ? err.message : String(err);
    throw new IntegrityError(`${subject}: not a valid (compressed) tar archive: ${why}`, { cause: err });
  }
  await unpackArchive(new Rootfs(into), '/', tar, {
    archiveName: display,
    subject,
    confined: true,
    ...(onEntry ? { onEntry } : {}),
    logger: env.logger,
    signal: env.signal,
  });
}

/** `tar://PATH`: the file, relative to the working directory; a missing or unreadable one is exit 4. */
async function fetchTarFile(
  path: string,
  into: string,
  env: BuildEnv,
  display: string,
  onEntry?: EntryListener,
): Promise<void> {
  const file = resolve(env.cwd, path);
  const handle = await open(file, 'r').catch((err: unknown) => {
    const code = errnoCode(err) ?? '';
    const known: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied' };
    const what = known[code] ?? (err instanceof Error ? err.message : String(err));
    throw new ContextError(`context ${display}: cannot read ${file}: ${what}`, display, { cause: err });
  });
  try {
    if ((await handle.stat()).isDirectory())
      throw new ContextError(`context ${display}: ${file} is a directory, not a tarball`, display, {
        hint: `for a directory, give --context ${path} or dir://${path}`,
      });
    await unpackContext(handle.createReadStream({ autoClose: false }), into, env, display, onEntry);
  } finally {
    await handle.close();
  }
}

/** `tar://stdin`: standard input, to its end. */
async function fetchStdin(into: string, env: BuildEnv, display: string, onEntry?: EntryListener): Promise<void> {
  const stdin = env.stdin;
  if (stdin === undefined) throw new UsageError(`context ${display}: this build has no standard input to read`);
  // Kaniko would wait for a terminal's end of file; a user who forgot the pipe is told instead.
  if ((stdin as { isTTY?: boolean }).isTTY === true)
    throw new UsageError(`context ${display}: standard input is a terminal`, {
      hint: 'pipe the context into it, e.g. `tar -cz -C DIR . | executor --context tar://stdin …`',
    });
  await unpackContext(stdin, into, env, display, onEntry);
}

/** The fetcher of `tar://PATH` and `tar://stdin` (remote-context.ts loads it when a build uses them). */
export const fetchTarContext: ContextFetcher = async (spec, into, env, display, onEntry) => {
  if (spec.kind === 'tar') return fetchTarFile(spec.path, into, env, display, onEntry);
  if (spec.kind === 'stdin') return fetchStdin(into, env, display, onEntry);
  throw new Error(`internal: the tar fetcher got a ${spec.kind} context`);
};
