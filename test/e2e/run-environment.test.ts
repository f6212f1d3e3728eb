/**
 * Issue 13 item 1 on the host, in both isolation modes a host can give (namespaces = runc, chroot =
 * the executor without CAP_SYS_ADMIN): every RUN sees the host's /etc/resolv.conf, /etc/hosts and
 * hostname, /dev/null, /dev/zero, /dev/urandom, a writable /dev/shm and /dev/fd (and, with
 * namespaces, /proc) — also where the image has none of those files, or no /etc at all — and none
 * of it reaches a layer: the image's own files at those paths (or their absence) are what the
 * image has afterwards, byte for byte.
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir, WITHOUT_SYS_ADMIN, type ExecutorResult } from '../support/executor.js';
import { inspectForTest, type InspectedImage } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

type Mode = 'chroot' | 'namespaces';
const MODES: readonly Mode[] = ['namespaces', 'chroot'];

async function build(mode: Mode, name: string, files: Record<string, string>): Promise<ExecutorResult> {
  const ctx = await tempDir(`runenv-${name}`);
  for (const [file, text] of Object.entries(files)) await writeFile(join(ctx, file), text);
  const args = ['--context', `dir://${ctx}`, '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`];
  args.push('--destination', `${env.reg.host}/e2e/runenv-${name}:${mode}`);
  return runExecutor(args, mode === 'chroot' ? { prefix: WITHOUT_SYS_ADMIN } : {});
}

/** What a step prints about its environment; `;`, not `&&`: every line is checked on its own. */
const PROBE =
  'cat /etc/resolv.conf /etc/hosts /etc/hostname; echo "hostname=$(hostname)"; ' +
  'test -w /dev/shm && echo shm-writable; touch /dev/shm/x && echo shm-written; echo "fd=$(readlink /dev/fd)"; ' +
  'ls /dev/fd/ | tr "\\n" " "; echo; head -1 /proc/self/status; ' +
  'test -c /dev/null && test -c /dev/zero && test -c /dev/urandom && head -c 8 /dev/urandom | wc -c | sed "s/^ */urandom=/"';

/** Entries of the layers from `from` on, without a leading `./` or `/`. */
async function ownEntries(image: InspectedImage, from: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = from; i < image.layers.length; i++)
    out.push(...(await image.layerEntries(i)).map((n) => n.replace(/^\.?\//, '')));
  return out;
}

/** Entries a step's environment would leave behind (the Dockerfile made none of them). */
const LEAKED = /^(etc\/(resolv\.conf|hosts|hostname)|(\.wh\.)?(dev|proc|sys)(\/|$)|etc\/\.wh\.)/;

async function expectHostEnvironment(mode: Mode, stdout: string): Promise<void> {
  for (const file of ['/etc/resolv.conf', '/etc/hosts']) {
    const text = await readFile(file, 'utf8');
    expect(stdout, file).toContain(text.trim());
  }
  expect(stdout).toContain(`${hostname()}\nhostname=${hostname()}\n`);
  expect(stdout).toMatch(/^shm-writable$/m);
  expect(stdout).toMatch(/^shm-written$/m);
  expect(stdout).toMatch(/^fd=\/proc\/self\/fd$/m);
  expect(stdout).toMatch(/^urandom=8$/m);
  // runc lists the step's own descriptors; without /proc the link dangles.
  if (mode === 'namespaces') {
    expect(stdout).toMatch(/^0 1 2 /m);
    expect(stdout).toMatch(/^Name:\s+head$/m);
  }
}

test.each(MODES)(
  "%s: a RUN on an image without /etc/resolv.conf and /etc/hosts, or without /etc, sees the host's; no layer gets them",
  async (mode) => {
    const dockerfile = `ARG BASE
FROM \${BASE} AS withetc
RUN ${PROBE}; echo one > /one.txt
FROM scratch
COPY --from=withetc /bin/ /bin/
RUN ${PROBE}; echo two > /two.txt
COPY --from=withetc /etc/ /copied-etc/
`;
    const r = await build(mode, 'noetc', { Dockerfile: dockerfile });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^INFO RUN isolation: ${mode}\\b`, 'm'));
    await expectHostEnvironment(mode, r.stdout);
    expect(r.stdout.split(`hostname=${hostname()}`)).toHaveLength(3);

    const image = await inspectForTest(`${env.reg.host}/e2e/runenv-noetc:${mode}`);
    // A scratch stage: every layer is the Dockerfile's.
    expect((await ownEntries(image, 0)).filter((e) => LEAKED.test(e))).toEqual([]);
    // The scratch stage had no /etc and none was left; the busybox stage's /etc kept just its own files.
    expect(await image.exists('/etc')).toBe(false);
    expect(await image.exists('/dev')).toBe(false);
    expect(await image.exists('/proc')).toBe(false);
    expect(await image.readFile('/two.txt')).toBe('two\n');
    expect((await image.layerEntries(image.layers.length - 1)).map((e) => e.replace(/^\.?\//, '')).sort()).toEqual(
      ['copied-etc/', 'copied-etc/group', 'copied-etc/passwd'].sort(),
    );
  },
);

test.each(MODES)(
  '%s: on busybox (an /etc without those files) the RUN layer holds only what the step wrote',
  async (mode) => {
    const r = await build(mode, 'busybox', {
      Dockerfile: `ARG BASE\nFROM \${BASE}\nRUN ${PROBE}; echo one > /one.txt\n`,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    await expectHostEnvironment(mode, r.stdout);
    const image = await inspectForTest(`${env.reg.host}/e2e/runenv-busybox:${mode}`);
    // Not even etc/ or dev/: the mtimes Kiln's files moved there are no change of the step's.
    expect(await ownEntries(image, env.base.layers.length)).toEqual(['one.txt']);
  },
);

test.each(MODES)(
  "%s: the image's own /etc/hosts, /etc/resolv.conf and /etc/hostname are byte-identical after RUNs that wrote them",
  async (mode) => {
    const own = {
      hosts: '10.9.8.7 image-own-host\n',
      'resolv.conf': 'nameserver 192.0.2.1\n',
      hostname: 'image-own-name\n',
    };
    const dockerfile = `ARG BASE
FROM \${BASE}
COPY hosts resolv.conf hostname /etc/
RUN ${PROBE}; echo step-wrote >> /etc/hosts; echo step-wrote > /etc/resolv.conf; echo step-wrote > /etc/hostname; echo one > /one.txt
RUN cat /etc/hosts /etc/resolv.conf; echo two > /two.txt
`;
    const copier = `FROM \${BASE}\nCOPY --from=0 /etc/hosts /etc/resolv.conf /etc/hostname /copied/\n`;
    const r = await build(mode, 'ownetc', { Dockerfile: dockerfile + copier, ...own });
    expect(r.exitCode, r.stderr).toBe(0);
    await expectHostEnvironment(mode, r.stdout);
    // Each RUN gets a fresh copy: the first step's writes are gone by the second.
    expect(r.stdout).not.toMatch(/step-wrote/);
    expect(r.stdout).not.toContain('image-own');

    // A later stage's COPY --from reads the stage as it ends: the image's own files.
    const image = await inspectForTest(`${env.reg.host}/e2e/runenv-ownetc:${mode}`);
    for (const [name, text] of Object.entries(own)) expect(await image.readFile(`/copied/${name}`)).toBe(text);
    // The stage itself, pushed on its own.
    const r0 = await build(mode, 'ownetc0', { Dockerfile: dockerfile, ...own });
    expect(r0.exitCode, r0.stderr).toBe(0);
    const stage = await inspectForTest(`${env.reg.host}/e2e/runenv-ownetc0:${mode}`);
    for (const [name, text] of Object.entries(own)) {
      expect(await stage.readFile(`/etc/${name}`)).toBe(text);
      expect(await stage.stat(`/etc/${name}`)).toMatchObject({ type: 'file', mode: 0o644, uid: 0, gid: 0 });
    }
    expect(stage.layers).toHaveLength(env.base.layers.length + 3);
    for (const i of [stage.layers.length - 2, stage.layers.length - 1]) {
      const entries = (await stage.layerEntries(i)).map((e) => e.replace(/^\.?\//, ''));
      expect(
        entries.filter((e) => LEAKED.test(e) || e.startsWith('etc')),
        `layer ${i}`,
      ).toEqual([]);
    }
  },
);

test.each(MODES)(
  "%s: an image whose /etc/resolv.conf is a symlink (systemd-resolved's) gets the host's, and keeps its symlink",
  async (mode) => {
    const ctx = await tempDir('runenv-link');
    await mkdir(join(ctx, 'etc'));
    await symlink('../run/systemd/resolve/stub-resolv.conf', join(ctx, 'etc', 'resolv.conf'));
    await writeFile(
      join(ctx, 'Dockerfile'),
      `ARG BASE\nFROM \${BASE}\nCOPY etc/ /etc/\nRUN ${PROBE}; echo one > /one.txt\n`,
    );
    const dest = `${env.reg.host}/e2e/runenv-link:${mode}`;
    const args = ['--context', `dir://${ctx}`, '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`];
    const r = await runExecutor(
      [...args, '--destination', dest],
      mode === 'chroot' ? { prefix: WITHOUT_SYS_ADMIN } : {},
    );
    expect(r.exitCode, r.stderr).toBe(0);
    await expectHostEnvironment(mode, r.stdout);
    const image = await inspectForTest(dest);
    expect(await image.stat('/etc/resolv.conf')).toMatchObject({
      type: 'symlink',
      linkTarget: '../run/systemd/resolve/stub-resolv.conf',
    });
    expect(await image.exists('/run')).toBe(false);
    expect((await image.layerEntries(image.layers.length - 1)).map((e) => e.replace(/^\.?\//, ''))).toEqual([
      'one.txt',
    ]);
  },
);
