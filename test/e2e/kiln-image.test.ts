/**
 * Issue 7: Kiln's own image, built by Kiln from images/Dockerfile (scripts/image.mjs), checked
 * with umoci, then run by podman as a Kubernetes pod would run it: the context mounted at
 * /workspace, the args of deploy/kubernetes/{pod,job}.yaml, registry credentials and CAs where the
 * image expects them, default capabilities (chroot isolation) and with SYS_ADMIN (namespaces).
 * The registry serves HTTPS with a test CA that the container trusts through the image's own CA
 * bundle path, so the Job's args are used exactly, with no --insecure added.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../support/executor.js';
import { inspectImage, type InspectedImage } from '../support/inspect.js';
import { startGitServer } from '../support/git-server.js';
import { manifestArgs, withDestination } from '../support/k8s-manifests.js';
import { setUpKilnImage, type KilnImageEnv } from '../support/kiln-image.js';
import { listHost } from '../support/layers-listing.js';
import { issueCert } from '../support/certs.js';
import { run } from '../support/run.js';
import type { Podman } from '../support/podman.js';
import type { TestRegistry } from '../support/registry.js';

let env: KilnImageEnv | undefined;
let layout: string;
let reg: TestRegistry;
let baseRef: string;
let podmanSkip: string | undefined;
let latest: InspectedImage;

beforeAll(async () => {
  env = await setUpKilnImage({ name: 'kiln-image', tag: 'latest' });
  ({ layout, reg, podmanSkip } = env);
  baseRef = env.base.ref;
  latest = await inspectImage({ ociLayout: layout, tag: 'latest' });
}, 300_000);

afterAll(async () => {
  await latest?.cleanup();
  await env?.cleanup();
});

describe("Kiln's image, as umoci and skopeo read it", () => {
  test('holds /kaniko/executor, the Node runtime with its libraries, the host tools and CA certificates', async () => {
    const exec = await latest.stat('/kaniko/executor');
    expect(exec.type).toBe('file');
    expect(exec.mode).toBe(0o755);
    expect((await latest.readFile('/kaniko/executor')).split('\n')[0]).toBe('#!/kaniko/bin/node');
    for (const p of [
      '/kaniko/bin/node',
      '/kaniko/bin/unshare',
      '/kaniko/bin/mount',
      '/kaniko/bin/runc',
      '/kaniko/bin/sh',
      '/kaniko/lib/ld-linux-x86-64.so.2',
      '/kaniko/lib/libc.so.6',
      '/kaniko/lib/libstdc++.so.6',
      '/kaniko/lib/executor.js',
      '/kaniko/lib/listing-worker.js',
      '/kaniko/bin/git',
      '/kaniko/git-core/git-remote-https',
      '/kaniko/git-core/git-submodule',
    ]) {
      expect(await latest.exists(p), p).toBe(true);
    }
    expect((await latest.stat('/kaniko/bin/node')).mode & 0o111).toBe(0o111);
    expect(await latest.readFile('/kaniko/ssl/certs/ca-certificates.crt')).toContain('-----BEGIN CERTIFICATE-----');
    expect((await latest.stat('/kaniko/.docker')).type).toBe('dir');
    expect((await latest.stat('/workspace')).type).toBe('dir');
    expect((await latest.stat('/tmp')).mode).toBe(0o1777);
    // Nothing outside /kaniko that Kiln needs: a build in place may replace the rest.
    expect(await latest.exists('/usr')).toBe(false);
    expect(await latest.exists('/lib64')).toBe(false);
    expect(await latest.exists('/busybox')).toBe(false);
    expect(await latest.exists('/bin')).toBe(false);
  });

  test("has Kaniko's entrypoint, DOCKER_CONFIG (with Kaniko's GCR credential helpers) and default context", async () => {
    const dockerConfig = JSON.parse(await latest.readFile('/kaniko/.docker/config.json')) as {
      credHelpers?: Record<string, string>;
    };
    expect(dockerConfig.credHelpers?.['gcr.io']).toBe('gcr');
    expect(dockerConfig.credHelpers?.['eu.gcr.io']).toBe('gcr');
    const c = latest.config.config ?? {};
    expect(c.Entrypoint).toEqual(['/kaniko/executor']);
    expect(c.Cmd ?? undefined).toBeUndefined();
    expect(c.WorkingDir).toBe('/workspace');
    expect(c.Env).toContain('DOCKER_CONFIG=/kaniko/.docker/');
    expect(c.Env).toContain('SSL_CERT_DIR=/kaniko/ssl/certs');
    expect(c.Env).toContain('GIT_EXEC_PATH=/kaniko/git-core');
    // Kiln reads SSL_CERT_DIR itself; NODE_EXTRA_CA_CERTS named one file, and Node warned when it was gone.
    expect(c.Env?.filter((e) => e.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
    expect(c.Env?.find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/kaniko\/bin:/);
    expect(latest.config.os).toBe('linux');
  });

  test('the :debug variant adds busybox at /busybox on top of the same layers', async () => {
    const debug = await inspectImage({ ociLayout: layout, tag: 'debug' });
    try {
      expect(debug.layers.slice(0, latest.layers.length)).toEqual(latest.layers);
      // Two layers, as in Kaniko's debug image: /busybox, and /bin with sh → /busybox/sh.
      expect(debug.layers.length).toBe(latest.layers.length + 2);
      expect((await debug.stat('/busybox/sh')).linkTarget).toBe('busybox');
      expect((await debug.stat('/busybox/busybox')).mode).toBe(0o755);
      expect(debug.config.config?.Env?.find((e) => e.startsWith('PATH='))).toMatch(/:\/busybox$/);
      expect(debug.config.config?.Entrypoint).toEqual(['/kaniko/executor']);
    } finally {
      await debug.cleanup();
    }
  });
});

/** A build context: a Dockerfile with COPY and RUN on the test registry's busybox. */
async function context(): Promise<string> {
  const ctx = await tempDir('kiln-image-ctx');
  await writeFile(
    join(ctx, 'Dockerfile'),
    [
      `FROM ${baseRef}`,
      'COPY hello.txt /app/hello.txt',
      'RUN echo built > /app/built && chmod 0640 /app/built && ln -s built /app/link && mkdir -p /app/sub && cat /app/hello.txt > /app/sub/copy',
      'ENTRYPOINT ["/bin/cat", "/app/built"]',
      '',
    ].join('\n'),
  );
  await writeFile(join(ctx, 'hello.txt'), 'hello from the workspace\n');
  return ctx;
}

/** `podman run` of Kiln's image as the pod spec runs it: context at /workspace, our CA trusted. */
async function runKiln(ctx: string, args: string[], extra: string[] = []): ReturnType<Podman['run']> {
  return env!.runImage(args, { workspace: ctx, extra });
}

describe('podman runs the image as a Kubernetes pod would', () => {
  test('the Job, with default capabilities: in place by itself (chroot runner), pushed and readable; with SYS_ADMIN: namespaces; with --rootfs=/: in place; the same rootfs each time', async (t) => {
    if (podmanSkip) return t.skip(podmanSkip);
    const { job } = await manifestArgs();
    const ctx = await context();
    const listings = [];
    for (const [mode, extra] of [
      ['chroot', []],
      ['namespaces', ['--cap-add', 'SYS_ADMIN']],
    ] as const) {
      const dest = `${reg.host}/podman/${mode}:1`;
      const r = await runKiln(ctx, withDestination(job, dest), [...extra]);
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`isolation[:=] ?${mode}`));
      // With SYS_ADMIN the steps are runc containers (the container's cgroups are read-only, so runc makes none).
      if (mode === 'namespaces') expect(r.stderr).toMatch(/each RUN is a runc container/);
      // Without mount privileges Kiln's image builds in place by itself, as Kaniko does, so that
      // RUN has the pod's /proc, /dev and DNS (issue 13); with them, every stage keeps its directory.
      const auto = /isolation: in-place \(Kiln's image, .*without mount privileges/;
      if (mode === 'chroot') expect(r.stderr).toMatch(auto);
      else expect(r.stderr).not.toMatch(auto);
      expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^sha256:[0-9a-f]{64}$/);
      const image = await inspectImage({ registry: dest });
      try {
        expect(await image.readFile('/app/built')).toBe('built\n');
        expect(await image.readFile('/app/sub/copy')).toBe('hello from the workspace\n');
        expect((await image.stat('/app/built')).mode).toBe(0o640);
        expect((await image.stat('/app/link')).linkTarget).toBe('built');
        expect(image.config.config?.Entrypoint).toEqual(['/bin/cat', '/app/built']);
        listings.push(await listHost(image.rootfsDir));
      } finally {
        await image.cleanup();
      }
    }
    expect(listings[1]).toEqual(listings[0]);
    // Kaniko's model, --rootfs=/: the base unpacked over the container's own / (Kiln's image keeps
    // all it needs under /kaniko), RUN in place. The image is the same as the other two build.
    const dest = `${reg.host}/podman/in-place:1`;
    const r = await runKiln(ctx, [...withDestination(job, dest), '--rootfs=/']);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/isolation: in-place \(--rootfs=\/, inside a container/);
    const image = await inspectImage({ registry: dest });
    try {
      expect(await listHost(image.rootfsDir)).toEqual(listings[0]);
    } finally {
      await image.cleanup();
    }
  }, 300_000);

  test("--rootfs=/ --cleanup: after the build the container's / holds only what Kiln kept, not the base", async (t) => {
    if (podmanSkip) return t.skip(podmanSkip);
    const { pod } = await manifestArgs();
    // dash's own `echo /*` lists / after the executor is done: no program of the base is needed.
    const script = '/kaniko/executor "$@"; rc=$?; echo "after:" /*; exit $rc';
    const r = await runKiln(
      await context(),
      ['-c', script, 'sh', ...pod, '--rootfs=/', '--cleanup'],
      ['--entrypoint', '/kaniko/bin/sh'],
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/in-place: --cleanup emptied \/ \(\d+ paths removed\)/);
    const after = /^after: (.*)$/m.exec(r.stdout)?.[1]?.split(' ') ?? [];
    expect(after).toContain('/kaniko');
    expect(after).toContain('/workspace');
    // The busybox base brought /bin and /app came from the build: both gone.
    expect(after).not.toContain('/bin');
    expect(after).not.toContain('/app');
  }, 300_000);

  test('a git:// context over HTTPS behind basic auth, with its submodules (issue 14)', async (t) => {
    if (podmanSkip) return t.skip(podmanSkip);
    const root = await tempDir('kiln-image-git');
    const git = (cwd: string, ...args: string[]) =>
      run('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
    for (const name of ['lib', 'app']) await git(root, 'init', '-q', '-b', 'main', name);
    await writeFile(join(root, 'lib', 'lib.txt'), 'submodule\n');
    await git(join(root, 'lib'), 'add', '.');
    await git(join(root, 'lib'), 'commit', '-q', '-m', 'lib');
    await run('git', ['clone', '-q', '--bare', join(root, 'lib'), join(root, 'repos', 'lib.git')]);
    const app = join(root, 'app');
    await writeFile(join(app, 'Dockerfile'), `FROM ${baseRef}\nCOPY . /ctx/\n`);
    await writeFile(join(app, '.dockerignore'), '.git\n');
    await git(app, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', join(root, 'repos', 'lib.git'), 'lib');
    await git(app, 'config', '-f', '.gitmodules', 'submodule.lib.url', '../lib.git');
    await git(app, 'add', '.');
    await git(app, 'commit', '-q', '-m', 'app');
    await run('git', ['clone', '-q', '--bare', app, join(root, 'repos', 'app.git')]);
    const cert = await issueCert(env!.ca, env!.work, 'git', 'server');
    const server = await startGitServer({
      root: join(root, 'repos'),
      tls: { cert: cert.certPem, key: cert.keyPem },
      users: { builder: 'pw-in-image' },
    });
    try {
      const dest = `${reg.host}/podman/git:1`;
      const args = ['--context', `git://${server.host}/app.git`, '--git', 'recurse-submodules=true', '-d', dest];
      // An empty /workspace: Kaniko reads a relative --dockerfile there first, then in the context.
      const r = await runKiln(await tempDir('kiln-image-empty'), args, [
        '-e',
        'GIT_USERNAME=builder',
        '-e',
        'GIT_PASSWORD=pw-in-image',
      ]);
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout + r.stderr).not.toContain('pw-in-image');
      const image = await inspectImage({ registry: dest });
      try {
        expect(await image.readFile('/ctx/lib/lib.txt')).toBe('submodule\n');
        expect(await image.readFile('/ctx/Dockerfile')).toContain('COPY . /ctx/');
      } finally {
        await image.cleanup();
      }
    } finally {
      await server.stop();
    }
  }, 300_000);

  test('the Pod: a --no-push build whose last line is the digest, and nothing pushed', async (t) => {
    if (podmanSkip) return t.skip(podmanSkip);
    const { pod } = await manifestArgs();
    const r = await runKiln(await context(), pod);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.stderr).not.toMatch(/pushed/);
  }, 300_000);
});
