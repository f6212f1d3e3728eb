/**
 * Remote files for `ADD <url>`: one GET, redirects followed (as BuildKit's http source does),
 * the body handed over as a stream — never buffered — with the `Last-Modified` time, which
 * becomes the file's mtime (epoch 0 without one, as in BuildKit). Connect, header and body-idle
 * timeouts stop a stalled server from hanging the build; retrying is the caller's choice.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { Readable } from 'node:stream';

/**
 * Thrown when a download cannot start, or (as the body's error) when it stalls; the caller adds
 * the Dockerfile location. `status` is the HTTP status of a refused request; `timedOut` marks a
 * connect, header or body-idle timeout — with resets, what a retry may cure.
 */
export class DownloadFailed extends Error {
  constructor(
    message: string,
    readonly extra: { status?: number; timedOut?: boolean; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }
}

/** How long a download may wait to connect, for the response headers, and between body chunks (ms). */
export interface DownloadTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

/** The registry client's defaults, for the same reasons: 30 s to connect, 60 s for the rest. */
export const DEFAULT_DOWNLOAD_TIMEOUTS: DownloadTimeouts = { connectMs: 30_000, headersMs: 60_000, bodyMs: 60_000 };

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

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

/**
 * One GET with the three timeouts. node:http has none of its own that fit: its `timeout` is one
 * socket-idle timer, and a body the consumer is slow to read would trip it. So: a connect timer
 * until the socket is connected (and, for https, the handshake done), a headers timer from then
 * until the response, and a body-idle timer refreshed by every chunk from the socket; it fires
 * only when nothing has arrived and nothing is waiting to be read, so a slow consumer never
 * counts as a stalled server.
 */
function request(url: URL, signal: AbortSignal, t: DownloadTimeouts): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => clearTimeout(timer);
    const req = get(url, { signal, headers: { 'user-agent': 'kiln', accept: '*/*' } }, (res) => {
      stop();
      watchBody(res, url, t.bodyMs);
      resolve(res);
    });
    const fail = (message: string): void => {
      req.destroy(new DownloadFailed(`GET ${url.href}: ${message}`, { timedOut: true }));
    };
    const awaitHeaders = (): void => {
      stop();
      timer = setTimeout(() => fail(`no response within ${seconds(t.headersMs)}`), t.headersMs);
    };
    req.once('socket', (socket) => {
      if (!socket.connecting) return awaitHeaders();
      timer = setTimeout(() => fail(`could not connect within ${seconds(t.connectMs)}`), t.connectMs);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', awaitHeaders);
    });
    req.once('error', (err) => {
      stop();
      reject(err);
    });
  });
}

/** Destroys `res` with a timed-out {@link DownloadFailed} when its server goes quiet for `ms`. */
function watchBody(res: IncomingMessage, url: URL, ms: number): void {
  const socket = res.socket;
  const timer = setTimeout(() => {
    // Data waiting for the reader: the reader is slow, not the server.
    if (res.readableLength > 0) {
      timer.refresh();
      return;
    }
    res.destroy(new DownloadFailed(`no data for ${seconds(ms)}`, { timedOut: true }));
  }, ms);
  const alive = (): void => void timer.refresh();
  socket?.on('data', alive);
  const done = (): void => {
    clearTimeout(timer);
    socket?.off('data', alive);
  };
  res.once('close', done);
  res.once('end', done);
}

/** GETs `url`, following redirects; rejects with {@link DownloadFailed} for a failed request or a non-2xx answer. */
export async function openDownload(url: URL, signal: AbortSignal, timeouts: DownloadTimeouts = DEFAULT_DOWNLOAD_TIMEOUTS): Promise<Download> {
  let current = url;
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new DownloadFailed(`${url.href}: redirected to unsupported URL ${current.href}`);
    }
    let res: IncomingMessage;
    try {
      res = await request(current, signal, timeouts);
    } catch (err) {
      if (signal.aborted || err instanceof DownloadFailed) throw err;
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
      throw new DownloadFailed(`GET ${current.href}: ${status} ${res.statusMessage ?? ''}`.trimEnd(), { status });
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
