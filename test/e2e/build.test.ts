/**
 * Issue 2 end to end: the compiled executor builds FROM a busybox image in a real registry,
 * pushes or writes the result, and independent tools (skopeo, umoci) check what it made.
 */
import { chmod, cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

const net = (): string[] => ['--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`];

/** The hello fixture copied to a temp context, with a file mode git cannot carry (0600). */
async function helloContext(): Promise<string> {
  const dir = await tempDir('ctx');
  await cp(fixture('hello'), dir, { recursive: true });
  await chmod(join(dir, 'files/sub/deep/b.txt'), 0o600);
  await chmod(join(dir, 'files/bin/tool.sh'), 0o755);
  return dir;
}

function ok(r: { exitCode: number | null; stderr: string }): void {
  expect(r.stderr, r.stderr).not.toMatch(/internal error/);
  expect(r.exitCode, r.stderr).toBe(0);
}

describe('a build pushed to the registry', () => {
  test('has the config, files and base layer the Dockerfile asks for', async () => {
    const ctx = await helloContext();
    const dest = `${env.reg.host}/e2e/hello:1`;
    const r = await runExecutor(['--context', `dir://${ctx}`, '--destination', dest, ...net()]);
    ok(r);
    const image = await inspectForTest({ registry: dest });
    expect(r.stdout.trim().split('\n').at(-1)).toBe(image.digest);

    const cfg = image.config.config ?? {};
    expect(cfg.Env).toContain('APP_ENV=production');
    expect(cfg.Env).toContain('GREETING=hi there');
    expect(cfg.Env?.some((e) => e.startsWith('PATH=/usr/local/sbin'))).toBe(true);
    expect(cfg.WorkingDir).toBe('/work');
    expect(cfg.User).toBe('app');
    expect(cfg.Entrypoint).toEqual(['/bin/sh', '-c', 'cat /hello.txt']);
    expect(cfg.Cmd ?? null).toBeNull(); // ENTRYPOINT clears the base image's CMD
    expect(cfg.Labels).toEqual({ 'org.example.stage': 'e2e' });
    expect(Object.keys(cfg.ExposedPorts ?? {})).toEqual(['8080/tcp']);

    expect(image.layers[0]).toBe(env.base.layers[0]);
    expect(image.config.rootfs.diff_ids[0]).toBe(env.base.diffIds[0]);
    expect(await image.readFile('/hello.txt')).toBe('hello\n');
    expect(await image.readFile('/greeting.txt')).toBe('greetings\n');
    expect(await image.readFile('/opt/files/a.txt')).toBe('alpha\n');
    expect(await image.stat('/opt/files/bin/tool.sh')).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
    expect(await image.stat('/opt/files/sub/deep/b.txt')).toMatchObject({ type: 'file', mode: 0o600, uid: 0, gid: 0 });
    expect(await image.stat('/work')).toMatchObject({ type: 'dir' });
    // RUN ran in WORKDIR with ENV (exec form), and as USER after it.
    expect(await image.readFile('/work/where.txt')).toBe('/work\nproduction\n');
    expect(await image.readFile('/home/app/whoami')).toBe('1000\n');
    expect(await image.stat('/home/app/whoami')).toMatchObject({ uid: 1000 });
    // Mount points Kiln made for RUN (busybox has no /proc or /sys) never reach the image.
    expect(await image.exists('/proc')).toBe(false);
    expect(await image.exists('/sys')).toBe(false);
    // The base is intact beneath the new layers.
    expect(await image.stat('/bin/sh')).toMatchObject({ type: 'symlink', linkTarget: 'busybox' });
    expect(await image.stat('/tmp')).toMatchObject({ mode: 0o1777 });

    // One history entry per instruction; only RUN, COPY, COPY and WORKDIR add layers.
    const history = image.config.history ?? [];
    const own = history.slice(-11);
    expect(history).toHaveLength(12); // the base's one entry, then one per instruction
    expect(own.map((h) => h.created_by?.split(' ')[0])).toEqual([
      'RUN',
      'COPY',
      'COPY',
      'ENV',
      'WORKDIR',
      'RUN',
      'USER',
      'RUN',
      'LABEL',
      'EXPOSE',
      'ENTRYPOINT',
    ]);
    expect(own.filter((h) => !h.empty_layer)).toHaveLength(6);
    expect(image.layers).toHaveLength(7);
    expect(own[0]?.created_by).toBe('RUN /bin/sh -c echo hello > /hello.txt # buildkit');
  });

  test('RUN rm of a base file becomes a whiteout', async () => {
    const dest = `${env.reg.host}/e2e/whiteout:1`;
    const r = await runExecutor([
      '--context',
      fixture('errors'),
      '--dockerfile',
      fixture('errors/whiteout.Dockerfile'),
      '--destination',
      dest,
      ...net(),
    ]);
    ok(r);
    const image = await inspectForTest({ registry: dest });
    expect(await image.exists('/etc/group')).toBe(false);
    expect(await image.exists('/etc/passwd')).toBe(true);
    expect(await image.layerEntries(1)).toContain('etc/.wh.group');
  });

  test('a RUN that leaves a process behind ends when its command does', async () => {
    const dest = `${env.reg.host}/e2e/background:1`;
    const r = await runExecutor(
      ['--context', fixture('errors'), '--dockerfile', 'background.Dockerfile', '--destination', dest, ...net()],
      { timeoutMs: 60_000 },
    );
    ok(r);
    expect(r.stdout).toContain('started');
  });

  test('several destinations all get the image, and the digest files name them', async () => {
    const ctx = await helloContext();
    const out = await tempDir('dests');
    const dests = [`${env.reg.host}/e2e/multi-a:1`, `${env.reg.host}/e2e/multi-b:2`];
    const r = await runExecutor([
      '--context',
      ctx,
      ...dests.flatMap((d) => ['--destination', d]),
      '--digest-file',
      join(out, 'digest'),
      '--image-name-with-digest-file',
      join(out, 'names'),
      ...net(),
    ]);
    ok(r);
    const digest = (await readFile(join(out, 'digest'), 'utf8')).trim();
    expect(await readFile(join(out, 'names'), 'utf8')).toBe(
      `${env.reg.host}/e2e/multi-a@${digest}\n${env.reg.host}/e2e/multi-b@${digest}\n`,
    );
    for (const d of dests) expect((await inspectForTest({ registry: d })).digest).toBe(digest);
  });
});

describe('a build written to disk', () => {
  test('--tar-path and --oci-layout-path give images skopeo and umoci accept', async () => {
    const ctx = await helloContext();
    const out = await tempDir('out');
    const tar = join(out, 'image.tar');
    const layout = join(out, 'layout');
    const r = await runExecutor([
      '--context',
      ctx,
      '--no-push',
      '--destination',
      'kiln.test/hello:2',
      '--tar-path',
      tar,
      '--oci-layout-path',
      layout,
      '--digest-file',
      join(out, 'digest'),
      ...net(),
    ]);
    ok(r);
    const digest = (await readFile(join(out, 'digest'), 'utf8')).trim();

    const fromLayout = await inspectForTest({ ociLayout: layout, tag: '2' });
    expect(fromLayout.digest).toBe(digest);
    expect(await fromLayout.readFile('/hello.txt')).toBe('hello\n');
    expect(await fromLayout.stat('/opt/files/sub/deep/b.txt')).toMatchObject({ mode: 0o600 });

    const fromTar = await inspectForTest({ dockerArchive: tar });
    expect(fromTar.config.rootfs.diff_ids).toEqual(fromLayout.config.rootfs.diff_ids);
    expect(fromTar.config.config?.Entrypoint).toEqual(['/bin/sh', '-c', 'cat /hello.txt']);
    expect(await fromTar.readFile('/greeting.txt')).toBe('greetings\n');
  });

  test('SOURCE_DATE_EPOCH makes two builds of the same inputs identical', async () => {
    const ctx = await helloContext();
    const digests: string[] = [];
    for (const n of [1, 2]) {
      const out = await tempDir(`repro${n}`);
      const r = await runExecutor(['--context', ctx, '--no-push', '--oci-layout-path', join(out, 'layout'), ...net()], {
        env: { SOURCE_DATE_EPOCH: '1700000000' },
      });
      ok(r);
      digests.push(r.stdout.trim().split('\n').at(-1) ?? '');
    }
    expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digests[1]).toBe(digests[0]);
  });
});
