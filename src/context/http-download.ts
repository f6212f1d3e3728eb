/**
 * Remote files for `ADD <url>`: one GET, redirects followed (as BuildKit's http source does),
 * the body handed over as a stream — never buffered — with the `Last-Modified` time, which
 * becomes the file's mtime (epoch 0 without one, as in BuildKit).
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { Readable } from 'node:stream';

/** Thrown when a download cannot start; the caller adds the Dockerfile location. */
export class DownloadFailed extends Error {}

/** An open download: read `body` to the end (or destroy it). */
export interface Download {
  body: Readable;
  /** `Last-Modified`, when the server sent a valid one. */
  lastModified?: Date;
  /** `Content-Length`, when sent. */
  size?: number;
  /** The URL that finally answered, after redirects. */
  url: URL;
}

/** How many redirects a download follows (Go's http.Client default, which BuildKit uses). */
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function request(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    const req = get(url, { signal, headers: { 'user-agent': 'kiln', accept: '*/*' } }, resolve);
    req.once('error', reject);
  });
}

/** GETs `url`, following redirects; rejects with {@link DownloadFailed} for a failed request or a non-2xx answer. */
export async function openDownload(url: URL, signal: AbortSignal): Promise<Download> {
  let current = url;
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new DownloadFailed(`${url.href}: redirected to unsupported URL ${current.href}`);
    }
    let res: IncomingMessage;
    try {
      res = await request(current, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new DownloadFailed(`GET ${current.href}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (REDIRECTS.has(status) && location !== undefined) {
      res.resume(); // consume the redirect's body so the socket is released
      if (hop >= MAX_REDIRECTS) throw new DownloadFailed(`GET ${url.href}: stopped after ${MAX_REDIRECTS} redirects`);
      current = new URL(location, current);
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw new DownloadFailed(`GET ${current.href}: ${status} ${res.statusMessage ?? ''}`.trimEnd());
    }
    const modified = res.headers['last-modified'];
    const lastModified = modified === undefined ? undefined : new Date(modified);
    const length = Number(res.headers['content-length']);
    return {
      body: res,
      url: current,
      ...(lastModified !== undefined && !Number.isNaN(lastModified.getTime()) ? { lastModified } : {}),
      ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
    };
  }
}
