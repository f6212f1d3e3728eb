/** Small tar archives built in memory with tar-stream, for unit tests of layer and archive code. */
import tar, { type Header } from 'tar-stream';

export type TarEntry = Partial<Header> & { name: string; content?: string; pax?: Record<string, string> };

/** A tar of `entries` (mtime 2020-09-13 unless given; `mode` defaults as tar-stream's: 0644 files, 0755 dirs). */
export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...h } of entries) pack.entry({ mtime: new Date(1_600_000_000_000), ...h }, content ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
