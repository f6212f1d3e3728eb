/**
 * Writes a plain tar file of named blobs (used for docker-archive output). Entries stream one
 * after the other into the tar; nothing is held whole in memory but small documents.
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export interface ArchiveEntry {
  name: string;
  size: number;
  /** Small content given directly, or a stream opener for large content. */
  content: Uint8Array | (() => Promise<Readable>);
}

/** Writes `entries` in order into a new tar file at `file` (mode 0644 entries, mtime 0 for reproducibility). */
export async function writeTarFile(file: string, entries: ArchiveEntry[], signal?: AbortSignal): Promise<void> {
  const pack = tar.pack();
  const out = pipeline(pack, createWriteStream(file), { signal });
  const feed = (async () => {
    for (const e of entries) {
      const header = {
        name: e.name,
        size: e.size,
        mode: 0o644,
        mtime: new Date(0),
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
      };
      if (typeof e.content === 'function') {
        const source = await e.content();
        await pipeline(source, pack.entry(header), { signal });
      } else {
        const bytes = e.content;
        await new Promise<void>((resolve, reject) =>
          pack.entry(header, Buffer.from(bytes), (err) => (err ? reject(err) : resolve())),
        );
      }
    }
    pack.finalize();
  })();
  try {
    await Promise.all([out, feed]);
  } catch (err) {
    pack.destroy(err instanceof Error ? err : undefined);
    throw err;
  }
}
