/**
 * Hostile builds: `.dockerignore` and `RUN --mount=type=bind` of the context. BuildKit never
 * exposes an ignored file to the build, so a RUN that reads the context through a bind mount must
 * not find one either — or an ignored `secret.env` could be baked into a layer. The context
 * itself is the sentinel outside the rootfs: it must be unchanged after the build.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir } from '../../support/executor.js';
import { filesContaining, inspectForTest } from '../../support/inspect.js';
import { useRegistryWithBusybox } from '../../support/suite.js';

const env = useRegistryWithBusybox();

/** Every file of `dir` with its content, mode, mtime and link count, to compare the context before and after the build. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    const st = await lstat(p);
    const what = e.isFile() ? await readFile(p, 'utf8') : e.isDirectory() ? '<dir>' : '<other>';
    out[p.slice(dir.length)] = `${what} mode=${st.mode.toString(8)} mtime=${st.mtimeMs} nlink=${st.nlink}`;
  }
  return out;
}

const DOCKERFILE = `ARG BASE
FROM \${BASE}
RUN --mount=type=bind,target=/ctx cat /ctx/secret.env > /leak 2>/dev/null || true; ls -A /ctx > /listing
RUN --mount=type=bind,source=sub,target=/sub cat /sub/private/key > /leak-sub 2>/dev/null || true; ls -AR /sub > /sub-listing
RUN --mount=type=bind,target=/rw,rw cat /rw/secret.env > /leak-rw 2>/dev/null || true; echo scribbled > /rw/keep.txt; chmod 777 /rw/Dockerfile; touch -d 2001-01-01 /rw/sub/ok.md; ls -A /rw > /rw-listing
RUN --mount=type=bind,source=sub/link,target=/via-link ls -A /via-link > /link-listing
`;

/** A context with ignored secrets (a file, a directory in a subdirectory) and an exception. */
async function hostileContext(secret: string): Promise<string> {
  const ctx = await tempDir('bind-ignore');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(ctx, '.dockerignore'), 'secret.env\nsub/private\n*.txt\n!keep.txt\n');
  await writeFile(join(ctx, 'secret.env'), `TOKEN=${secret}\n`);
  await writeFile(join(ctx, 'keep.txt'), 'kept\n');
  await writeFile(join(ctx, 'drop.txt'), `dropped ${secret}\n`);
  await mkdir(join(ctx, 'sub', 'private'), { recursive: true });
  await writeFile(join(ctx, 'sub', 'ok.md'), 'fine\n');
  await writeFile(join(ctx, 'sub', 'private', 'key'), `${secret}\n`);
  // A symlink source resolves inside the context, and the filter applies where it leads.
  await symlink('private/..', join(ctx, 'sub', 'link'));
  return ctx;
}

test('a bind mount of the context hides what .dockerignore ignores, and the context is untouched', async () => {
  const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
  const ctx = await hostileContext(secret);
  const before = await snapshot(ctx);
  const dest = `${env.reg.host}/hostile/bind-ignore:1`;
  const started = Date.now();
  const r = await runExecutor(
    ['--context', ctx, '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`, '--destination', dest],
    { timeoutMs: 90_000 },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  expect(Date.now() - started).toBeLessThan(90_000);
  expect(await snapshot(ctx)).toEqual(before);

  const image = await inspectForTest(dest);
  expect((await image.readFile('/listing')).split('\n').filter(Boolean)).toEqual([
    '.dockerignore',
    'Dockerfile',
    'keep.txt',
    'sub',
  ]);
  expect(await image.readFile('/sub-listing')).toBe('/sub:\nlink\nok.md\n');
  expect((await image.readFile('/rw-listing')).split('\n').filter(Boolean)).toEqual([
    '.dockerignore',
    'Dockerfile',
    'keep.txt',
    'sub',
  ]);
  expect(await image.readFile('/link-listing')).toBe('link\nok.md\n');
  for (const leak of ['/leak', '/leak-sub', '/leak-rw']) expect(await image.readFile(leak), leak).toBe('');
  expect(await filesContaining(image.rootfsDir, secret)).toEqual([]);
  expect(r.stdout + r.stderr).not.toContain(secret);
});

test('an ignored file named as a bind source is not found (exit 6), as COPY finds it not', async () => {
  const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
  const ctx = await hostileContext(secret);
  const before = await snapshot(ctx);
  await writeFile(
    join(ctx, 'direct.Dockerfile'),
    `ARG BASE\nFROM \${BASE}\nRUN --mount=type=bind,source=sub/private/key,target=/k cat /k > /leak\n`,
  );
  const r = await runExecutor(
    [
      '--context',
      ctx,
      '--dockerfile',
      join(ctx, 'direct.Dockerfile'),
      '--no-push',
      '--insecure-pull',
      '--build-arg',
      `BASE=${env.base.ref}`,
    ],
    { timeoutMs: 60_000 },
  );
  expect(r.exitCode, r.stderr).toBe(6);
  expect(r.stderr).toMatch(/RUN --mount: source sub\/private\/key not found in the build context/);
  expect(r.stdout + r.stderr).not.toContain(secret);
  const after = await snapshot(ctx);
  delete after['/direct.Dockerfile'];
  expect(after).toEqual(before);
});
