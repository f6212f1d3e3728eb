/**
 * Issue 7 on the host: the executor run under `capsh --drop=cap_sys_admin` (as in a container with
 * default capabilities) picks chroot isolation, says so, and still builds — the same files as
 * with namespace isolation. A RUN that needs what only namespaces give (/proc) fails naming the
 * isolation in use and how to get a stronger one.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir, WITHOUT_SYS_ADMIN, type ExecutorResult } from '../support/executor.js';
import { type InspectedImage, inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

type Mode = 'chroot' | 'namespaces';

const build = (mode: Mode, args: string[]): Promise<ExecutorResult> =>
  runExecutor(args, mode === 'chroot' ? { prefix: WITHOUT_SYS_ADMIN } : {});

/**
 * RUN writes files as root and as another user, with modes; the background job and the write to
 * /dev/null need /dev/null (which a shell opens for every `&` job); COPY brings a context file
 * with --chown and --chmod.
 */
const DOCKERFILE = (base: string): string => `FROM ${base}
RUN set -e; mkdir -p /out/sub; echo built > /out/run.txt; chmod 640 /out/run.txt; ln -s run.txt /out/link; \\
 echo discarded > /dev/null; (echo from-background > /out/sub/bg.txt) & wait $!
USER app
RUN echo as-app > /home/app/mine.txt
USER root
COPY --chown=1000:1000 --chmod=600 ctx.txt /out/sub/ctx.txt
`;

/** `path type mode uid:gid [content sha256 | link target]` for every path the image's own layers wrote. */
async function ownFiles(image: InspectedImage, baseLayers: number): Promise<string[]> {
  const names = new Set<string>();
  for (let i = baseLayers; i < image.layers.length; i++) {
    for (const n of await image.layerEntries(i)) names.add(`/${n.replace(/^\.?\//, '').replace(/\/$/, '')}`);
  }
  const lines: string[] = [];
  for (const p of [...names].sort()) {
    const host = join(image.rootfsDir, p);
    const st = await lstat(host);
    const what = st.isSymbolicLink()
      ? `-> ${await readlink(host)}`
      : st.isFile()
        ? createHash('sha256')
            .update(await readFile(host))
            .digest('hex')
            .slice(0, 16)
        : '';
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
    lines.push(`${p} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`.trimEnd());
  }
  return lines;
}

test('without CAP_SYS_ADMIN the executor picks chroot isolation, says so, and builds the same files as with namespaces', async () => {
  const ctx = await tempDir('isolation');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE(env.base.ref));
  await writeFile(join(ctx, 'ctx.txt'), 'from the context\n');
  const common = ['--context', `dir://${ctx}`, '--insecure', '--insecure-pull'];
  const dests = {
    chroot: `${env.reg.host}/e2e/isolation:chroot`,
    namespaces: `${env.reg.host}/e2e/isolation:namespaces`,
  };
  const [chroot, namespaces] = await Promise.all([
    build('chroot', [...common, '--destination', dests.chroot]),
    build('namespaces', [...common, '--destination', dests.namespaces]),
  ]);
  expect(chroot.exitCode, chroot.stderr).toBe(0);
  expect(namespaces.exitCode, namespaces.stderr).toBe(0);
  expect(chroot.stderr).toMatch(/^INFO RUN isolation: chroot\b/m);
  expect(chroot.stderr).not.toMatch(/isolation: namespaces/);
  expect(namespaces.stderr).toMatch(/^INFO RUN isolation: namespaces\b/m);
  expect(namespaces.stderr).not.toMatch(/isolation: chroot/);
  expect(chroot.stdout).not.toMatch(/can't open|No such file/);

  const listings: Record<Mode, string[]> = { chroot: [], namespaces: [] };
  for (const mode of ['chroot', 'namespaces'] as const) {
    const image = await inspectForTest(dests[mode]);
    expect(image.layers.slice(0, env.base.layers.length)).toEqual(env.base.layers);
    expect(await image.readFile('/out/run.txt')).toBe('built\n');
    expect(await image.stat('/out/run.txt')).toMatchObject({ type: 'file', mode: 0o640, uid: 0, gid: 0 });
    expect(await image.stat('/out/link')).toMatchObject({ type: 'symlink', linkTarget: 'run.txt' });
    expect(await image.readFile('/out/sub/bg.txt')).toBe('from-background\n');
    expect(await image.readFile('/home/app/mine.txt')).toBe('as-app\n');
    expect(await image.stat('/home/app/mine.txt')).toMatchObject({ type: 'file', uid: 1000, gid: 1000 });
    expect(await image.readFile('/out/sub/ctx.txt')).toBe('from the context\n');
    expect(await image.stat('/out/sub/ctx.txt')).toMatchObject({ type: 'file', mode: 0o600, uid: 1000, gid: 1000 });
    // Nothing Kiln made for the step reaches the image: no /proc, /sys, and no /dev/null file.
    expect(await image.exists('/proc')).toBe(false);
    expect(await image.exists('/sys')).toBe(false);
    expect(await image.exists('/dev/null')).toBe(false);
    listings[mode] = await ownFiles(image, env.base.layers.length);
  }
  expect(listings.chroot).toContain(
    '/out/run.txt file 640 0:0 ' + createHash('sha256').update('built\n').digest('hex').slice(0, 16),
  );
  expect(listings.chroot).toEqual(listings.namespaces);
});

test('a RUN that needs /proc fails in chroot isolation naming the mode and how to get namespaces', async () => {
  const ctx = await tempDir('isolation-proc');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${env.base.ref}\nRUN grep -q '^Name:' /proc/self/status\n`);
  const common = ['--context', `dir://${ctx}`, '--no-push', '--insecure-pull'];
  const [chroot, namespaces] = await Promise.all([build('chroot', common), build('namespaces', common)]);
  // With namespaces, /proc is mounted and the same RUN passes.
  expect(namespaces.exitCode, namespaces.stderr).toBe(0);
  // grep's own status 2 (issue 13 item 8; this was exit 6).
  expect(chroot.exitCode, chroot.stderr).toBe(2);
  expect(chroot.stderr).toMatch(
    /^error: Dockerfile:2: RUN grep -q '\^Name:' \/proc\/self\/status: the command exited with status 2$/m,
  );
  const hint = chroot.stderr.split('\n').find((l) => l.startsWith('hint: '));
  expect(hint, chroot.stderr).toMatch(/chroot isolation/);
  expect(hint).toMatch(/\/proc/);
  expect(hint).toMatch(/CAP_SYS_ADMIN/);
  expect(hint).toMatch(/namespace/);
  // The other thing chroot mode changes for a step: DNS is the pod's (issue 13).
  expect(hint).toMatch(/DNS/);
  expect(hint).toMatch(/resolv\.conf/);
  expect(chroot.stderr).not.toMatch(/internal error|^\s+at /m);
});

test('a RUN whose shell is killed by a signal exits 128+N, as a shell reports it, and says which signal', async () => {
  // In chroot isolation the step's shell is an ordinary process and SIGKILL ends it. (Under runc it
  // is pid 1 of its pid namespace, which a SIGKILL from inside does not kill; runc itself exits
  // 128+N for a container killed by signal N, so both modes give the same status.)
  const ctx = await tempDir('isolation-signal');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${env.base.ref}\nRUN kill -9 $$\n`);
  const r = await build('chroot', ['--context', ctx, '--no-push', '--insecure-pull']);
  expect(r.exitCode, r.stderr).toBe(137);
  expect(r.stderr).toMatch(
    /^error: Dockerfile:2: RUN kill -9 \$\$: the command was killed by SIGKILL \(status 137\)$/m,
  );
});
