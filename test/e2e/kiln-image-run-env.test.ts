/**
 * Issue 13, acceptance: every RUN sees the environment of the pod (or host) Kiln runs in, as
 * Kaniko's RUN does over the container's own `/` — the pod's DNS server (`--dns`, here a dnsmasq
 * on loopback serving a test name), its added hosts (`--add-host`), `/proc`, `/dev/shm` and
 * `/dev/fd` — in every stage, not only the target one; and none of it reaches a layer. Checked
 * with Kiln's image under podman with default capabilities and with SYS_ADMIN, and with
 * bin/executor on this host in a private mount namespace whose resolv.conf and hosts the test
 * bind-mounts (the host's own files are never touched). Then the Kaniko introduction's pod.yaml
 * arguments, verbatim, build under podman with only the image changed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDnsmasq, type DnsStart } from '../support/dnsmasq.js';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { setUpKilnImage, type KilnImageEnv } from '../support/kiln-image.js';
import type { PodmanResult } from '../support/podman.js';

/** The name dnsmasq serves, and the host the pod adds to its /etc/hosts. */
const NAME = 'kiln-test.internal';
const NAME_IP = '192.0.2.77';
const ADDED_HOST = 'added-host.kiln-test';
const ADDED_IP = '198.51.100.7';

let env: KilnImageEnv | undefined;
let dns: DnsStart | undefined;

beforeAll(async () => {
  dns = await startDnsmasq({ [NAME]: NAME_IP });
  if (dns.skip) console.warn(`skipping the RUN environment tests: ${dns.skip}`);
  env = await setUpKilnImage({ name: 'kiln-image-run-env', tag: 'latest' });
}, 300_000);

afterAll(async () => {
  await dns?.dns?.stop();
  await env?.cleanup();
});

/** Why this test cannot run here, if it cannot. */
const skipReason = (): string | undefined => env?.podmanSkip ?? dns?.skip;

/**
 * Two stages on busybox, each with one RUN that needs the whole environment (set -e: any check
 * failing fails the build); the final stage copies the first one's result and is pushed.
 */
async function context(base: string): Promise<string> {
  const ctx = await tempDir('run-env-ctx');
  const checks = (stage: string): string =>
    `RUN set -e; echo "==" "${stage}" "start"; nslookup ${NAME}; head -1 /proc/self/status; echo x > /dev/shm/x; ` +
    `ls /dev/fd/; grep ${ADDED_HOST} /etc/hosts; mkdir -p /out; echo ${stage} > /out/${stage}.txt`;
  await writeFile(
    join(ctx, 'Dockerfile'),
    [
      `FROM ${base} AS one`,
      checks('one'),
      `FROM ${base}`,
      'COPY --from=one /out/one.txt /out/',
      checks('two'),
      '',
    ].join('\n'),
  );
  return ctx;
}

/**
 * Layer entries that hold the pod's files: its DNS and hosts files, /proc, /sys, /kaniko, anything
 * under /dev (the RUNs' /dev/shm/x included), or a whiteout of one. The busybox base's own empty
 * `dev/` directory is no leak; the base has no resolv.conf or hosts, so no layer may have them.
 */
function leaked(name: string): boolean {
  const n = name
    .replace(/^\.?\//, '')
    .replace(/\/$/, '')
    .replace(/(^|\/)\.wh\./, '$1');
  return (
    /^(proc|sys|kaniko)(\/|$)/.test(n) ||
    n.startsWith('dev/') ||
    ['etc/resolv.conf', 'etc/hosts', 'etc/hostname'].includes(n)
  );
}

/** `s` as a regular expression source matching itself (the names and addresses hold dots). */
const re = (s: string): string => s.replaceAll('.', '\\.');

/** What every variant must show: both RUNs saw the environment, and the pushed image holds none of it. */
async function expectBuilt(r: PodmanResult, dest: string): Promise<void> {
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.exitCode, `${out}\ndnsmasq:\n${dns?.dns?.log() ?? ''}`).toBe(0);
  for (const stage of ['one', 'two']) {
    // The RUN's own output, one block per stage: the answer came from dnsmasq, the added host was there.
    const from = out.indexOf(`== ${stage} start`);
    expect(from, `no output of stage ${stage}'s RUN:\n${out}`).toBeGreaterThanOrEqual(0);
    const to = out.indexOf('== two start');
    const block = out.slice(from, stage === 'one' && to > from ? to : undefined);
    expect(block).toMatch(new RegExp(`Server:\\s+${re(dns!.dns!.address)}`));
    expect(block).toMatch(new RegExp(`Name:\\s+${re(NAME)}\\s+Address:\\s+${re(NAME_IP)}`));
    expect(block).toMatch(/Name:\s+head/);
    expect(block).toMatch(new RegExp(`${re(ADDED_IP)}\\s+${ADDED_HOST}`));
  }
  expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^sha256:[0-9a-f]{64}$/);
  const image = await inspectImage({ registry: dest });
  try {
    expect(await image.readFile('/out/one.txt')).toBe('one\n');
    expect(await image.readFile('/out/two.txt')).toBe('two\n');
    const entries: string[] = [];
    for (let i = 0; i < image.layers.length; i++) entries.push(...(await image.layerEntries(i)));
    expect(entries.filter(leaked)).toEqual([]);
    for (const p of ['/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/proc', '/kaniko', '/dev/shm']) {
      expect(await image.exists(p), p).toBe(false);
    }
  } finally {
    await image.cleanup();
  }
}

describe('every RUN sees the DNS server, added hosts, /proc, /dev/shm and /dev/fd of where Kiln runs', () => {
  for (const [variant, extra] of [
    ['default capabilities', []],
    ['SYS_ADMIN', ['--cap-add', 'SYS_ADMIN']],
  ] as const) {
    test(`podman, ${variant}: --dns and --add-host reach both stages' RUN; no layer holds them`, async (t) => {
      const skip = skipReason();
      if (skip) return t.skip(skip);
      const dest = `${env!.reg.host}/run-env/podman-${variant === 'SYS_ADMIN' ? 'sys-admin' : 'default'}:1`;
      const r = await env!.runImage(['--context=dir:///workspace', `--destination=${dest}`], {
        workspace: await context(env!.base.ref),
        extra: ['--dns', dns!.dns!.address, '--add-host', `${ADDED_HOST}:${ADDED_IP}`, ...extra],
      });
      await expectBuilt(r, dest);
    }, 150_000);
  }

  test("on the host: the host's resolv.conf and hosts (bind-mounted by the test in a private mount namespace)", async (t) => {
    if (dns?.skip) return t.skip(dns.skip);
    const etc = await tempDir('run-env-etc');
    await writeFile(join(etc, 'resolv.conf'), `nameserver ${dns!.dns!.address}\n`);
    await writeFile(join(etc, 'hosts'), `127.0.0.1\tlocalhost\n${ADDED_IP}\t${ADDED_HOST}\n`);
    // Kiln trusts the registry's test CA through SSL_CERT_DIR, as in its image.
    const certs = join(etc, 'certs');
    await mkdir(certs);
    await writeFile(join(certs, 'test-ca.crt'), env!.ca.certPem);
    const dest = `${env!.reg.host}/run-env/host:1`;
    const hostEtc = await Promise.all(
      ['/etc/resolv.conf', '/etc/hosts'].map(async (p) => [p, await readFile(p, 'utf8')] as const),
    );
    // unshare --mount makes the mounts private: they vanish with the namespace, the host never sees them.
    const bindEtc = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"';
    const prefix = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', bindEtc, 'sh'];
    const r = await runExecutor(['--context', `dir://${await context(env!.base.ref)}`, '--destination', dest], {
      prefix: [...prefix, join(etc, 'resolv.conf'), join(etc, 'hosts')],
      env: { SSL_CERT_DIR: certs },
      timeoutMs: 140_000,
    });
    for (const [path, text] of hostEtc) expect(await readFile(path, 'utf8'), `${path} of the host changed`).toBe(text);
    await expectBuilt(r, dest);
  }, 150_000);
});

describe("the Kaniko introduction's pod.yaml, verbatim but for the image", () => {
  test('--dockerfile=/workspace/dockerfile --context=dir://workspace: builds, warns that /workspace/workspace does not exist', async (t) => {
    if (env?.podmanSkip) return t.skip(env.podmanSkip);
    // Its volume holds `dockerfile` (FROM ubuntu; here the test registry's busybox), mounted at
    // /workspace; its secret volume holds config.json at /kaniko/.docker. --no-push stands in for
    // `--destination=<user-name>/<repo>`.
    const ws = await tempDir('run-env-pod');
    await writeFile(join(ws, 'dockerfile'), `FROM ${env!.base.ref}\nENTRYPOINT ["/bin/bash", "-c", "echo hello"]\n`);
    const secret = await tempDir('run-env-secret');
    await writeFile(join(secret, 'config.json'), JSON.stringify({ auths: {} }));
    const r = await env!.runImage(['--dockerfile=/workspace/dockerfile', '--context=dir://workspace', '--no-push'], {
      workspace: ws,
      extra: ['-v', `${secret}:/kaniko/.docker:ro`],
    });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^sha256:[0-9a-f]{64}$/);
    // `dir://workspace` is relative: in the image's WORKDIR /workspace it names /workspace/workspace, as in Kaniko.
    expect(r.stderr).toMatch(/^WARN the build context \/workspace\/workspace does not exist\b/m);
  }, 150_000);
});
