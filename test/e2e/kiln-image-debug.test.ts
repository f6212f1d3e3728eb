/**
 * Issue 13, items 2 and 4: Kiln's `:debug` image as a Kaniko user's CI runs it. Like Kaniko's debug
 * image it has `/bin/sh` → `/busybox/sh` and `/busybox` on PATH, so a GitLab job starts with
 * `--entrypoint /bin/sh` and its script writes `config.json`, appends its CA to the bundle and runs
 * `/kaniko/executor`, which builds and pushes to a registry with TLS and Basic auth. An in-place
 * build (`--rootfs=/`) keeps `/busybox`, so the job's shell goes on after it. Kaniko's way of
 * trusting a private CA, a directory holding `my-registry-ca.crt` mounted at `/kaniko/ssl/certs`
 * (the image's SSL_CERT_DIR), works without Node's raw "Ignoring extra certs" warning.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CertFiles } from '../support/certs.js';
import { tempDir } from '../support/executor.js';
import { inspectImage, type InspectedImage } from '../support/inspect.js';
import { setUpKilnImage, type KilnImageEnv } from '../support/kiln-image.js';
import type { Podman } from '../support/podman.js';
import type { TestRegistry } from '../support/registry.js';

const USER = 'gitlab-ci-token';
const PASSWORD = 'Job-T0ken-debug-8qz';
const CREDS = `${USER}:${PASSWORD}`;

let env: KilnImageEnv | undefined;
let layout: string;
let ca: CertFiles;
let reg: TestRegistry;
let baseRef: string;
let podman: Podman;
let podmanSkip: string | undefined;
let debug: InspectedImage;

beforeAll(async () => {
  env = await setUpKilnImage({ name: 'kiln-image-debug', tag: 'debug', auth: { user: USER, password: PASSWORD } });
  ({ layout, ca, reg, podman, podmanSkip } = env);
  baseRef = env.base.ref;
  debug = await inspectImage({ ociLayout: layout, tag: 'debug' });
}, 300_000);

afterAll(async () => {
  await debug?.cleanup();
  await env?.cleanup();
});

/** A project: a Dockerfile with COPY and RUN on the registry's busybox. */
async function project(): Promise<string> {
  const ctx = await tempDir('debug-ctx');
  await writeFile(
    join(ctx, 'Dockerfile'),
    [`FROM ${baseRef}`, 'COPY hello.txt /app/hello.txt', 'RUN cat /app/hello.txt > /app/built', ''].join('\n'),
  );
  await writeFile(join(ctx, 'hello.txt'), 'built by a CI job\n');
  return ctx;
}

describe("the :debug image, as umoci reads it: Kaniko's debug shell", () => {
  test('/bin/sh links to /busybox/sh; /kaniko and /busybox are on PATH; SSL_CERT_DIR is set, NODE_EXTRA_CA_CERTS is not', async () => {
    expect((await debug.stat('/bin/sh')).linkTarget).toBe('/busybox/sh');
    expect((await debug.stat('/busybox/sh')).linkTarget).toBe('busybox');
    expect((await debug.stat('/busybox/busybox')).mode).toBe(0o755);
    const env = debug.config.config?.Env ?? [];
    const path =
      env
        .find((e) => e.startsWith('PATH='))
        ?.slice(5)
        .split(':') ?? [];
    expect(path).toContain('/kaniko');
    expect(path.at(-1)).toBe('/busybox');
    expect(env).toContain('SSL_CERT_DIR=/kaniko/ssl/certs');
    expect(env.filter((e) => e.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
    expect(await debug.readFile('/kaniko/ssl/certs/ca-certificates.crt')).toContain('-----BEGIN CERTIFICATE-----');
  });
});

describe('podman runs the :debug image as a CI job does', () => {
  test('a GitLab job: --entrypoint /bin/sh, its script writes config.json, appends its CA to the bundle, builds and pushes', async (t) => {
    if (podmanSkip) return t.skip(podmanSkip);
    const dest = `${reg.host}/group/project:ci`;
    // GitLab's documented Kaniko job, word for word but for the variables' values.
    const script = [
      'set -e',
      'mkdir -p /kaniko/.docker',
      `echo "{\\"auths\\":{\\"\${CI_REGISTRY}\\":{\\"auth\\":\\"$(printf "%s:%s" "\${CI_REGISTRY_USER}" "\${CI_REGISTRY_PASSWORD}" | base64 | tr -d '\\n')\\"}}}" > /kaniko/.docker/config.json`,
      'cat "${CI_SERVER_TLS_CA_FILE}" >> /kaniko/ssl/certs/ca-certificates.crt',
      '/kaniko/executor --context "${CI_PROJECT_DIR}" --dockerfile "${CI_PROJECT_DIR}/Dockerfile" --destination "${CI_REGISTRY_IMAGE}:ci"',
      'echo "job done in $(pwd)"',
    ].join('\n');
    const r = await podman.run([
      '--network',
      'host',
      '--entrypoint',
      '/bin/sh',
      '-v',
      `${await project()}:/builds/group/project`,
      '-v',
      `${ca.cert}:/builds/ca.pem:ro`,
      '-e',
      'CI_PROJECT_DIR=/builds/group/project',
      '-e',
      `CI_REGISTRY=${reg.host}`,
      '-e',
      `CI_REGISTRY_IMAGE=${reg.host}/group/project`,
      '-e',
      `CI_REGISTRY_USER=${USER}`,
      '-e',
      `CI_REGISTRY_PASSWORD=${PASSWORD}`,
      '-e',
      'CI_SERVER_TLS_CA_FILE=/builds/ca.pem',
      `oci:${layout}:debug`,
      '-c',
      script,
    ]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('job done in /workspace');
    expect(r.stderr).not.toMatch(/Ignoring extra certs/);
    expect(r.stderr).not.toContain(PASSWORD);
    const image = await inspectImage({ registry: dest }, { creds: CREDS });
    try {
      expect(await image.readFile('/app/built')).toBe('built by a CI job\n');
      expect(r.stdout).toContain(image.digest);
    } finally {
      await image.cleanup();
    }
  }, 300_000);

  test("--rootfs=/ keeps /busybox, so the job's shell goes on; the CA comes from a directory mounted at /kaniko/ssl/certs", async (t) => {
    if (podmanSkip) return t.skip(podmanSkip);
    // Kaniko's docs: a directory holding my-registry-ca.crt, mounted over the image's SSL_CERT_DIR.
    const certs = await tempDir('debug-certs');
    await copyFile(ca.cert, join(certs, 'my-registry-ca.crt'));
    const docker = await tempDir('debug-docker');
    const auth = Buffer.from(CREDS).toString('base64');
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth } } }));
    const dest = `${reg.host}/group/in-place:ci`;
    const script = [
      '/kaniko/executor --context dir:///workspace --destination "$0" --rootfs=/ || exit $?',
      // /busybox/sh runs the rest: only /busybox, which Kiln kept, holds it.
      'exec /busybox/sh -c \'echo "after the build: $(/busybox/ls -d /busybox/sh)"\'',
    ].join('\n');
    const r = await podman.run([
      '--network',
      'host',
      '--entrypoint',
      '/bin/sh',
      '-v',
      `${await project()}:/workspace`,
      '-v',
      `${certs}:/kaniko/ssl/certs:ro`,
      '-v',
      `${docker}:/kaniko/.docker:ro`,
      `oci:${layout}:debug`,
      '-c',
      script,
      dest,
    ]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/isolation: in-place/);
    expect(r.stderr).not.toMatch(/Ignoring extra certs/);
    expect(r.stdout).toContain('after the build: /busybox/sh');
    const image = await inspectImage({ registry: dest }, { creds: CREDS });
    try {
      expect(await image.readFile('/app/built')).toBe('built by a CI job\n');
      // Kept, so neither in a layer nor taken from the base.
      expect(await image.exists('/busybox')).toBe(false);
      expect(await image.exists('/kaniko')).toBe(false);
    } finally {
      await image.cleanup();
    }
  }, 300_000);
});
