/**
 * Azurite (npm), Microsoft's Azure Storage emulator, for the Azure blob context tests (issue 14):
 * it checks Shared Key signatures and, over HTTPS with `--oauth basic`, bearer tokens' claims.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Started } from './cloud-stores.js';
import { freePort } from './registry.js';

/** Azurite's well-known development account (Microsoft's Azurite README). */
export const AZURITE = {
  account: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

/** A Shared Key signed PUT to Azurite (the test's own signer: an independent check of Kiln's reads). */
async function azuritePut(
  port: number,
  path: string,
  query: Record<string, string>,
  body: Buffer,
  extra: Record<string, string>,
  ca?: string,
): Promise<void> {
  const ms: Record<string, string> = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': '2021-12-02', ...extra };
  const headers = Object.keys(ms)
    .sort()
    .map((k) => `${k}:${ms[k]}\n`)
    .join('');
  const resource = `/${AZURITE.account}${path}${Object.keys(query)
    .sort()
    .map((k) => `\n${k}:${query[k]}`)
    .join('')}`;
  const std = ['', '', body.length > 0 ? String(body.length) : '', '', '', '', '', '', '', '', ''];
  const toSign = `PUT\n${std.join('\n')}\n${headers}${resource}`;
  const sig = createHmac('sha256', Buffer.from(AZURITE.key, 'base64')).update(toSign).digest('base64');
  const qs = new URLSearchParams(query).toString();
  const o = {
    host: '127.0.0.1',
    port,
    method: 'PUT',
    path: `${path}${qs ? `?${qs}` : ''}`,
    headers: { ...ms, authorization: `SharedKey ${AZURITE.account}:${sig}`, 'content-length': body.length },
    ...(ca !== undefined ? { ca } : {}),
  };
  await new Promise<void>((resolve, reject) => {
    const req = (ca !== undefined ? httpsRequest : request)(o, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode !== undefined && res.statusCode < 300
          ? resolve()
          : reject(new Error(`PUT ${path}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts Azurite's blob service (in memory, no telemetry) with `container` holding `blobs`; with
 * `tls`, over HTTPS with that certificate and accepting OAuth bearer tokens (`--oauth basic`:
 * their claims are checked, not their signature).
 */
export async function startAzurite(
  container: string,
  blobs: Record<string, Buffer>,
  tls?: { cert: string; key: string; caPem: string },
): Promise<Started> {
  const port = await freePort();
  // Resolved through Node (not a path from this file), so the bench can load this module too.
  const pkg = createRequire(import.meta.url).resolve('azurite/package.json');
  const child = spawn(
    process.execPath,
    [
      join(dirname(pkg), 'dist', 'src', 'blob', 'main.js'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--silent',
      '--disableTelemetry',
      // @azure/storage-blob sends a newer x-ms-version than this Azurite release knows.
      '--skipApiVersionCheck',
      ...(tls !== undefined ? ['--cert', tls.cert, '--key', tls.key, '--oauth', 'basic'] : []),
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await azuritePut(
        port,
        `/${AZURITE.account}/${container}`,
        { restype: 'container' },
        Buffer.alloc(0),
        {},
        tls?.caPem,
      );
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const [name, bytes] of Object.entries(blobs))
    await azuritePut(
      port,
      `/${AZURITE.account}/${container}/${name}`,
      {},
      bytes,
      { 'x-ms-blob-type': 'BlockBlob' },
      tls?.caPem,
    );
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
