import type { Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';

/**
 * Reads a small document (config, manifest, error body) whole, refusing more than `limit` bytes
 * so that a hostile or broken server cannot make Kiln buffer a layer-sized body.
 */
export async function readAtMost(source: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > limit) {
      source.destroy();
      throw new IntegrityError(`${what} is larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
