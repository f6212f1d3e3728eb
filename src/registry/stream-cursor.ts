/**
 * Reads one stream as consecutive byte ranges, each handed out as its own stream: what a chunked
 * upload needs to send a 512 MiB layer as PATCH requests of a few MiB without ever holding more
 * than a chunk of the stream's own buffering in memory (ARCHITECTURE.md §11 rule 2).
 */
import type { Readable } from 'node:stream';

export class StreamCursor {
  private readonly it: AsyncIterator<unknown>;
  private rest: Buffer | undefined;
  private ended = false;

  constructor(private readonly source: Readable) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.rest !== undefined) {
      const r = this.rest;
      this.rest = undefined;
      return r;
    }
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done === true) {
        this.ended = true;
        break;
      }
      const buf = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      if (buf.length > 0) return buf;
    }
    return undefined;
  }

  /** The next `n` bytes as they come (fewer only when the source ends first). */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      let buf = await this.next();
      if (buf === undefined) return;
      if (buf.length > left) {
        this.rest = buf.subarray(left);
        buf = buf.subarray(0, left);
      }
      left -= buf.length;
      yield buf;
    }
  }

  /** Drops the next `n` bytes; returns how many there were (fewer when the source ended). */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const buf of this.take(n)) skipped += buf.length;
    return skipped;
  }

  /** Whether the source has no bytes left. */
  async atEnd(): Promise<boolean> {
    const buf = await this.next();
    if (buf === undefined) return true;
    this.rest = buf;
    return false;
  }

  /** Releases the source. */
  close(): void {
    this.source.destroy();
  }
}
