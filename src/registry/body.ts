/**
 * Reading HTTP bodies that are read whole (manifests, tokens, error bodies) with a size cap, and
 * discarding the rest. undici keeps a connection busy until its body is consumed or destroyed,
 * so every response goes through one of these or is handed to the caller as a stream.
 */
import type { Readable } from 'node:stream';

/** Distribution refuses manifests over 4 MiB; so do we. */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** Token responses and error bodies are small; keep what fits. */
export const SMALL_BODY_MAX_BYTES = 1024 * 1024;
/** A body longer than this is destroyed (closing its connection) rather than read to the end. */
const DUMP_LIMIT = 256 * 1024;

/** A body read to at most `cap` bytes. `truncated` means there was more (the rest was dropped). */
export interface CappedBody {
  bytes: Buffer;
  truncated: boolean;
}

/** Reads up to `cap` bytes of `body`; beyond that, destroys it and reports truncation. */
export async function readAtMost(body: Readable, cap: number): Promise<CappedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (size + buf.length > cap) {
      chunks.push(buf.subarray(0, cap - size));
      body.destroy();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(buf);
    size += buf.length;
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

/** The subset of undici's body used here: `dump()` reads and drops up to a limit, then closes. */
interface Dumpable {
  dump(opts?: { limit: number }): Promise<void>;
}

/** Discards a response body so its connection can be reused; never throws. */
export async function discard(body: Readable & Dumpable): Promise<void> {
  try {
    await body.dump({ limit: DUMP_LIMIT });
  } catch {
    // A body that fails while being discarded has nothing more to tell us.
  }
}
