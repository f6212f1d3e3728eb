/**
 * Hostile builds: servers that stall. A registry that accepts the connection and never answers,
 * and an `ADD <url>` whose server never answers or stops sending its body, must fail within
 * the timeout (`--network-timeout`) times the attempts plus the backoff — never hang. The
 * context directory is the sentinel outside the rootfs: it must be unchanged. Bounds come from
 * runExecutor's timeoutMs and an elapsed-time assertion, never a sleep.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir } from '../../support/executor.js';
import { useRegistryWithBusybox } from '../../support/suite.js';

const env = useRegistryWithBusybox();

/** 3 retries (4 attempts) of a 1 s timeout: up to 2 s each (undici's timers tick once a second), plus 1 + 2 + 4 s of backoff. */
const TIMEOUT = '1s';
const ONE_SCHEME_MS = 4 * 2000 + 7000;
const MARGIN_MS = 15_000;

/** Listens on 127.0.0.1; closes the server and every accepted socket when the test ends. */
async function serve(server: Server | HttpServer): Promise<number> {
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A context holding `dockerfile`, and a listing of it to compare after the build. */
async function context(dockerfile: string): Promise<{ dir: string; listing: () => Promise<string> }> {
  const dir = await tempDir('timeouts');
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  await writeFile(join(dir, 'sentinel'), 'untouched\n');
  const listing = async (): Promise<string> =>
    `${(await readdir(dir)).sort().join(',')}:${await readFile(join(dir, 'sentinel'), 'utf8')}`;
  return { dir, listing };
}

/**
 * Builds `ctx` with `--network-timeout`, and checks what every case needs: it ended within
 * `bound` (not killed), and the context is as it was. Resolves with the outcome.
 */
async function buildWithin(
  ctx: Awaited<ReturnType<typeof context>>,
  args: string[],
  bound: number,
): Promise<{ exitCode: number | null; stderr: string }> {
  const before = await ctx.listing();
  const started = Date.now();
  const r = await runExecutor(
    ['--context', ctx.dir, '--no-push', '--insecure-pull', ...args, '--network-timeout', TIMEOUT],
    { timeoutMs: bound + 5000 },
  );
  const elapsed = Date.now() - started;
  expect(r.exitCode, r.stderr).not.toBeNull();
  expect(elapsed, r.stderr).toBeLessThan(bound);
  expect(await ctx.listing()).toBe(before);
  return r;
}

test('a base image registry that accepts connections and never answers fails with exit 4 within the timeouts and retries', async () => {
  const port = await serve(createServer(() => undefined)); // accepts, never writes
  const ctx = await context(`FROM 127.0.0.1:${port}/stalled/base:1\nRUN true\n`);
  const r = await buildWithin(ctx, [], 2 * ONE_SCHEME_MS + MARGIN_MS); // HTTPS first, then plain HTTP
  expect(r.exitCode, r.stderr).toBe(4);
  expect(r.stderr).toMatch(
    new RegExp(
      `^error: .*cannot reach registry 127\\.0\\.0\\.1:${port}: .*timed out.* after 1 s \\(4 attempts\\)`,
      'm',
    ),
  );
});

test('ADD <url> whose body stalls fails the step (exit 6) within the timeouts and retries', async () => {
  let requests = 0;
  const port = await serve(
    createHttpServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100000' });
      res.write('partial'); // then nothing more, connection kept open
    }),
  );
  const url = `http://127.0.0.1:${port}/big.bin`;
  const ctx = await context(`ARG BASE\nFROM \${BASE}\nADD ${url} /big.bin\n`);
  const r = await buildWithin(ctx, ['--build-arg', `BASE=${env.base.ref}`], ONE_SCHEME_MS + MARGIN_MS);
  expect(r.exitCode, r.stderr).toBe(6);
  expect(r.stderr).toContain(`ADD failed: downloading ${url}: no data for 1 s (4 attempts)`);
  expect(requests).toBe(4);
});

test('ADD <url> whose server never answers fails the step (exit 6) within the timeouts and retries', async () => {
  const port = await serve(createServer(() => undefined));
  const url = `http://127.0.0.1:${port}/file`;
  const ctx = await context(`ARG BASE\nFROM \${BASE}\nADD ${url} /file\n`);
  const r = await buildWithin(ctx, ['--build-arg', `BASE=${env.base.ref}`], ONE_SCHEME_MS + MARGIN_MS);
  expect(r.exitCode, r.stderr).toBe(6);
  expect(r.stderr).toContain(`ADD failed: GET ${url}: no response within 1 s (4 attempts)`);
});
