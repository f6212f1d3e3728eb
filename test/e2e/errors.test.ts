/**
 * Issue 2's error cases: each exits with its documented code and one clear message naming what
 * and where, never a stack trace.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  expect(stderr).not.toMatch(/internal error/);
}

test('an unknown flag exits 2 naming the flag', async () => {
  const r = await runExecutor(['--context', fixture('demo'), '--no-push', '--frobnicate']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/^error: unknown option '--frobnicate'/);
  noStack(r.stderr);
});

test('neither --destination nor --no-push exits 2 and says what to pass', async () => {
  const r = await runExecutor(['--context', fixture('demo')]);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/^error: no --destination given.*--no-push/);
  noStack(r.stderr);
});

test('a Dockerfile error exits 3 with Dockerfile:LINE', async () => {
  const r = await runExecutor([
    '--context',
    fixture('errors'),
    '--dockerfile',
    'bad-instruction.Dockerfile',
    '--no-push',
  ]);
  expect(r.exitCode).toBe(3);
  expect(r.stderr).toMatch(/^error: bad-instruction\.Dockerfile:3:.*RUNN/);
  expect(r.stderr).toMatch(/did you mean RUN/i);
  noStack(r.stderr);
});

// Issue 13 item 8: a failing RUN exits with its own status, as Kaniko does (this was exit 6).
// Status 3 is also Kiln's code for a Dockerfile error; the message tells them apart.
test("a failing RUN exits with the command's status, naming the command, that status and its output", async () => {
  const r = await runExecutor([
    '--context',
    fixture('errors'),
    '--dockerfile',
    'failing-run.Dockerfile',
    '--no-push',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(r.exitCode, r.stderr).toBe(3);
  expect(r.stderr).toMatch(
    /^error: failing-run\.Dockerfile:3: RUN echo about to fail && exit 3: the command exited with status 3/m,
  );
  expect(r.stderr).toContain('about to fail');
  noStack(r.stderr);
});

test("Kaniko's exit-code-propagation: `RUN exit 42` exits 42 and says the command exited with status 42", async () => {
  const ctx = await tempDir('exit-42');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${env.base.ref}\nRUN echo before\nRUN exit 42\nRUN echo never\n`);
  const r = await runExecutor(['--context', ctx, '--no-push', '--insecure-pull']);
  expect(r.exitCode, r.stderr).toBe(42);
  expect(r.stderr).toMatch(/^error: Dockerfile:3: RUN exit 42: the command exited with status 42$/m);
  expect(r.stdout).not.toContain('never');
  noStack(r.stderr);
});

// Issue 13 item 7: the Kaniko introduction's pod.yaml arguments, run where dir://workspace names nothing.
test('a --context that does not exist is a warning naming the resolved path, and a COPY then says so', async () => {
  const cwd = await tempDir('no-context');
  await writeFile(join(cwd, 'dockerfile'), `FROM ${env.base.ref}\nCOPY hello.txt /hello.txt\n`);
  const args = [`--dockerfile=${join(cwd, 'dockerfile')}`, '--context=dir://workspace', '--no-push', '--insecure-pull'];
  const missing = await runExecutor(args, { cwd });
  const context = join(cwd, 'workspace');
  expect(missing.stderr).toMatch(
    new RegExp(`^WARN the build context ${context} does not exist \\(--context dir://workspace\\): COPY and ADD`, 'm'),
  );
  expect(missing.exitCode, missing.stderr).toBe(6);
  expect(missing.stderr).toMatch(
    new RegExp(
      `^error: ${cwd}/dockerfile:2: COPY failed: file not found in build context or excluded by \\.dockerignore: hello\\.txt \\(the build context ${context} does not exist\\)$`,
      'm',
    ),
  );
  noStack(missing.stderr);

  // With the directory there, no warning, and the COPY names where it looked.
  await mkdir(context);
  const empty = await runExecutor(args, { cwd });
  expect(empty.exitCode, empty.stderr).toBe(6);
  expect(empty.stderr).not.toMatch(/does not exist/);
  expect(empty.stderr).toMatch(
    new RegExp(
      `COPY failed: file not found in build context .*: hello\\.txt \\(looked in the build context ${context}\\)$`,
      'm',
    ),
  );
});

test('an unreachable base registry exits 4 naming it', async () => {
  const r = await runExecutor([
    '--context',
    fixture('errors'),
    '--dockerfile',
    'unreachable.Dockerfile',
    '--no-push',
    '--insecure-pull',
  ]);
  expect(r.exitCode).toBe(4);
  expect(r.stderr).toMatch(/^error: .*127\.0\.0\.1:1/m);
  noStack(r.stderr);
});

test('an unreachable destination exits 4 before building, and pushes nothing', async () => {
  const r = await runExecutor([
    '--context',
    fixture('demo'),
    '--destination',
    '127.0.0.1:1/nowhere/app:1',
    '--insecure',
  ]);
  expect(r.exitCode).toBe(4);
  expect(r.stderr).toMatch(/^error: .*127\.0\.0\.1:1/m);
  noStack(r.stderr);
});

/** A registry that is never to be contacted: it counts the connections it gets. */
async function untouchedRegistry(): Promise<{ host: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

test.for([
  ['a malformed FROM image', 'FROM Bad//Name', 4, /invalid .*Bad\/\/Name/],
  ['a malformed COPY --from image', 'FROM scratch\nCOPY --from=Bad//Name /x /x', 5, /COPY --from=Bad\/\/Name: invalid/],
  [
    'a --from naming a later stage',
    'FROM scratch\nCOPY --from=later /x /x\nFROM scratch AS later',
    5,
    /COPY --from=later refers to a stage that is not defined before it/,
  ],
  [
    'a malformed RUN --mount',
    'FROM scratch\nRUN --mount=type=cache,target=/c,sharing=sometimes true',
    5,
    /RUN --mount=type=cache,target=\/c,sharing=sometimes: unsupported sharing value/,
  ],
] as const)(
  "%s in a later stage exits 3 at its line before the first stage's base is pulled",
  async ([, later, line, message], { expect }) => {
    const registry = await untouchedRegistry();
    const ctx = await tempDir('plan-errors');
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${registry.host}/never/pulled:1\nRUN true\n\n${later}\n`);
    const r = await runExecutor(['--context', ctx, '--no-push', '--insecure-pull']);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^error: Dockerfile:${line}: ${message.source}`, 'm'));
    expect(r.stderr).not.toContain('retrieving image');
    expect(registry.connections()).toBe(0);
    noStack(r.stderr);
  },
);
