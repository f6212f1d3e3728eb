/**
 * Blob downloads seen by the bench registry, from its own access log (test/support/registry.ts
 * `onAccessLog`): whatever tool made them, a `GET /v2/NAME/blobs/DIGEST` answered 200 or 206 is a
 * download, with the bytes the registry sent. HEADs (existence checks) and cross-repository
 * mounts (POST) download nothing and are not counted.
 */
import { randomUUID } from 'node:crypto';

/** One blob download. */
export interface BlobGet {
  repository: string;
  digest: string;
  bytes: number;
}

// distribution's combined log: `HOST - - [DATE] "GET /v2/NAME/blobs/DIGEST HTTP/1.1" STATUS BYTES "…" "UA"`
const BLOB_GET = /"GET \/v2\/(.+?)\/blobs\/(sha256:[0-9a-f]{64})(?:\?[^ ]*)? HTTP\/[\d.]+" (\d{3}) (\d+|-)/;

/** The blob download a log line records, if it records one. */
export function parseBlobGet(line: string): BlobGet | undefined {
  const m = BLOB_GET.exec(line);
  if (!m || (m[3] !== '200' && m[3] !== '206')) return undefined;
  return { repository: m[1] ?? '', digest: m[2] ?? '', bytes: m[4] === '-' ? 0 : Number(m[4]) };
}

/** Collects the registry's access log lines and cuts them into the spans of single builds. */
export class AccessLog {
  private lines: string[] = [];
  private waiters: { mark: string; resolve: () => void }[] = [];
  private host = '';

  /** The callback to give `startRegistry({ onAccessLog })`. */
  readonly onLine = (line: string): void => {
    this.lines.push(line);
    for (const w of this.waiters.filter((x) => line.includes(x.mark))) w.resolve();
  };

  /** The registry's `host:port`, once it is started (the marks are requests to it). */
  attach(host: string): void {
    this.host = host;
  }

  /**
   * Sends a request of its own and waits for its line: the lines before it belong to what ran
   * before (the registry logs a request when it has answered it, and the build has exited).
   * Returns the position after that line.
   */
  async mark(): Promise<number> {
    const mark = `bench-mark-${randomUUID()}`;
    const seen = new Promise<void>((resolve) => this.waiters.push({ mark, resolve }));
    const res = await fetch(`http://${this.host}/v2/${mark}/tags/list`);
    await res.arrayBuffer();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([seen, timeout]);
    this.waiters = this.waiters.filter((w) => w.mark !== mark);
    return this.lines.length;
  }

  /** The blob downloads logged between two marks. */
  blobGets(from: number, to: number): BlobGet[] {
    return this.lines
      .slice(from, to)
      .map(parseBlobGet)
      .filter((g): g is BlobGet => g !== undefined);
  }
}
