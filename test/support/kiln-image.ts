/**
 * The setup the end-to-end tests of Kiln's own image share: the image built by Kiln from
 * images/Dockerfile (scripts/image.mjs) into a private OCI layout, a registry serving HTTPS with a
 * test CA (optionally with htpasswd Basic auth) and holding the busybox base, and a private podman
 * that runs the image as a Kubernetes pod would: host network, the context at /workspace and the
 * test CA at the image's own CA bundle path, so the pod's args are used exactly, with no --insecure.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pushBusybox, type BaseImage } from './busybox.js';
import { issueCert, makeCa, type CertFiles } from './certs.js';
import { REPO } from './executor.js';
import { makePodman, type Podman, type PodmanResult } from './podman.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { run } from './run.js';

/** Options of {@link setUpKilnImage}. */
export interface KilnImageOptions {
  /** Names the work directory; lower case, since podman names an image it runs from `oci:DIR` after DIR. */
  name: string;
  /** The tag podman must be able to start (`latest` or `debug`). */
  tag: 'latest' | 'debug';
  /** Basic auth the registry demands; the busybox base is pushed with it. */
  auth?: { user: string; password: string };
}

/** What {@link setUpKilnImage} made; `cleanup` removes all of it. */
export interface KilnImageEnv {
  work: string;
  /** The OCI layout holding the tags `latest` and `debug`. */
  layout: string;
  ca: CertFiles;
  reg: TestRegistry;
  base: BaseImage;
  podman: Podman;
  /** Why podman cannot start the image here (the podman tests skip), or undefined. */
  podmanSkip: string | undefined;
  /**
   * `podman run` of the image (`latest` unless `tag`) as a pod runs it: host network, `workspace`
   * (if any) mounted at /workspace, the test CA at /kaniko/ssl/certs/ca-certificates.crt, then
   * `extra` podman options, the image, and `args` for its entrypoint.
   */
  runImage(args: string[], opts?: { workspace?: string; extra?: string[]; tag?: string }): Promise<PodmanResult>;
  cleanup(): Promise<void>;
}

/** Builds Kiln's image and starts the registry and podman for it (a few minutes: call in beforeAll). */
export async function setUpKilnImage(opts: KilnImageOptions): Promise<KilnImageEnv> {
  const work = join(tmpdir(), `${opts.name}-${randomBytes(6).toString('hex')}`);
  await mkdir(work);
  const layout = join(work, 'layout');
  await run(process.execPath, [join(REPO, 'scripts', 'image.mjs'), '--oci-layout-path', layout], { cwd: REPO });
  const ca = await makeCa(work);
  const server = await issueCert(ca, work, 'registry', 'server');
  let extraConfig: string | undefined;
  if (opts.auth) {
    const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', opts.auth.user, opts.auth.password]);
    await writeFile(join(work, 'htpasswd'), stdout);
    extraConfig = ['auth:', '  htpasswd:', `    realm: ${opts.name}`, `    path: ${join(work, 'htpasswd')}`].join('\n');
  }
  const reg = await startRegistry({
    extraHttp: ['  tls:', `    certificate: ${server.cert}`, `    key: ${server.key}`].join('\n'),
    ...(extraConfig !== undefined ? { extraConfig } : {}),
    tls: { ca: ca.certPem },
  });
  const creds = opts.auth ? { creds: `${opts.auth.user}:${opts.auth.password}` } : {};
  const base = await pushBusybox(reg, 'base/busybox', 'latest', creds);
  const podman = await makePodman();
  const podmanSkip = await podman.unusable(`oci:${layout}:${opts.tag}`);
  if (podmanSkip) console.warn(`skipping the podman tests: ${podmanSkip}`);
  return {
    work,
    layout,
    ca,
    reg,
    base,
    podman,
    podmanSkip,
    runImage: (args, o = {}) =>
      podman.run([
        '--network',
        'host',
        ...(o.workspace !== undefined ? ['-v', `${o.workspace}:/workspace`] : []),
        '-v',
        `${ca.cert}:/kaniko/ssl/certs/ca-certificates.crt:ro`,
        ...(o.extra ?? []),
        `oci:${layout}:${o.tag ?? 'latest'}`,
        ...args,
      ]),
    async cleanup() {
      await reg.stop();
      await podman.cleanup();
      await rm(work, { recursive: true, force: true });
    },
  };
}
