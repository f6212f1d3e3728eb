/**
 * The Kubernetes manifests of deploy/kubernetes (README, "Run in Kubernetes"): their shape and the
 * values that matter, checked in TypeScript always, and by kubectl's own decoder when it is
 * installed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  K8S_DIR,
  KILN_CONTAINER,
  manifestArgs,
  manifestFiles,
  readManifest,
  withDestination,
} from '../support/k8s-manifests.js';

const IMAGE = 'registry.example/kiln/executor:latest';
const POD_ARGS = ['--dockerfile=Dockerfile', '--context=dir:///workspace', '--no-push'];
const JOB_ARGS = ['--dockerfile=Dockerfile', '--context=dir:///workspace', '--destination=registry.example/app:latest'];
const SECRET_NAME = 'kiln-registry-credentials';

const Metadata = z.object({ name: z.string().min(1) });
const VolumeMount = z.object({
  name: z.string(),
  mountPath: z.string(),
  subPath: z.string().optional(),
  readOnly: z.boolean().optional(),
});
const Container = z.object({
  name: z.string(),
  image: z.string(),
  // The image's entrypoint (/kaniko/executor) must run: a manifest passes arguments, never a command.
  command: z.never().optional(),
  args: z.array(z.string()),
  volumeMounts: z.array(VolumeMount),
});
const Volume = z.object({
  name: z.string(),
  persistentVolumeClaim: z.object({ claimName: z.string() }).optional(),
  secret: z
    .object({ secretName: z.string(), items: z.array(z.object({ key: z.string(), path: z.string() })).optional() })
    .optional(),
});
const PodSpec = z.object({
  restartPolicy: z.string(),
  containers: z.array(Container).min(1),
  volumes: z.array(Volume),
});
const Pod = z.object({ apiVersion: z.literal('v1'), kind: z.literal('Pod'), metadata: Metadata, spec: PodSpec });
const Job = z.object({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('Job'),
  metadata: Metadata,
  spec: z.object({ backoffLimit: z.number().int(), template: z.object({ spec: PodSpec }) }),
});
const PersistentVolume = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('PersistentVolume'),
  metadata: Metadata,
  spec: z.object({
    storageClassName: z.string(),
    capacity: z.object({ storage: z.string() }),
    accessModes: z.array(z.string()),
    hostPath: z.object({ path: z.string(), type: z.string().optional() }),
  }),
});
const PersistentVolumeClaim = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('PersistentVolumeClaim'),
  metadata: Metadata,
  spec: z.object({
    storageClassName: z.string(),
    volumeName: z.string().optional(),
    accessModes: z.array(z.string()),
    resources: z.object({ requests: z.object({ storage: z.string() }) }),
  }),
});
const Secret = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: Metadata,
  type: z.literal('Opaque'),
  stringData: z.record(z.string(), z.string()),
});

/** Each manifest file and the kind it must hold. */
const KINDS: Record<string, string> = {
  'volume.yaml': 'PersistentVolume',
  'volume-claim.yaml': 'PersistentVolumeClaim',
  'pod.yaml': 'Pod',
  'job.yaml': 'Job',
  'registry-secret.example.yaml': 'Secret',
};

const load = {
  pv: async () => PersistentVolume.parse(await readManifest('volume.yaml')),
  pvc: async () => PersistentVolumeClaim.parse(await readManifest('volume-claim.yaml')),
  pod: async () => Pod.parse(await readManifest('pod.yaml')),
  job: async () => Job.parse(await readManifest('job.yaml')),
  secret: async () => Secret.parse(await readManifest('registry-secret.example.yaml')),
};

type PodSpecT = z.infer<typeof PodSpec>;

function kiln(spec: PodSpecT): z.infer<typeof Container> {
  const found = spec.containers.filter((c) => c.name === KILN_CONTAINER);
  expect(found, `one container named ${KILN_CONTAINER}`).toHaveLength(1);
  return found[0]!;
}

/** The volume mounted at `mountPath` in Kiln's container. */
function volumeAt(spec: PodSpecT, mountPath: string): z.infer<typeof Volume> | undefined {
  const mount = kiln(spec).volumeMounts.find((m) => m.mountPath === mountPath && m.subPath === undefined);
  return mount && spec.volumes.find((v) => v.name === mount.name);
}

/**
 * The files secrets put into Kiln's container, as container path → `secretName:key`, following
 * Kubernetes' rules: a secret volume holds `items[].path` (or each key of the Secret when there are
 * no items); a mount shows the whole volume at mountPath, or with subPath one entry of it.
 */
function secretFiles(spec: PodSpecT, keysOf: (secretName: string) => string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const mount of kiln(spec).volumeMounts) {
    const secret = spec.volumes.find((v) => v.name === mount.name)?.secret;
    if (!secret) continue;
    const entries =
      secret.items?.map((i) => [i.path, i.key] as const) ?? keysOf(secret.secretName).map((k) => [k, k] as const);
    for (const [path, key] of entries) {
      const target =
        mount.subPath === undefined
          ? posix.join(mount.mountPath, path)
          : mount.subPath === path
            ? mount.mountPath
            : undefined;
      if (target !== undefined) files.set(target, `${secret.secretName}:${key}`);
    }
  }
  return files;
}

/** Every place in `value` that asks for more than default container privileges. */
function privilegeRequests(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => privilegeRequests(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const here = `${at}.${k}`;
    const own =
      (['privileged', 'hostPID', 'hostIPC', 'hostNetwork'].includes(k) && v === true) ||
      (k === 'capabilities' &&
        typeof v === 'object' &&
        v !== null &&
        'add' in v &&
        Array.isArray(v.add) &&
        v.add.length > 0);
    return [...(own ? [here] : []), ...privilegeRequests(v, here)];
  });
}

describe('deploy/kubernetes manifests', () => {
  test('the directory holds exactly the expected manifests, each with its apiVersion and kind', async () => {
    expect(await manifestFiles()).toEqual(Object.keys(KINDS).sort());
    const parsed = await Promise.all([load.pv(), load.pvc(), load.pod(), load.job(), load.secret()]);
    expect(parsed.map((m) => `${m.apiVersion} ${m.kind}`)).toEqual([
      'v1 PersistentVolume',
      'v1 PersistentVolumeClaim',
      'v1 Pod',
      'batch/v1 Job',
      'v1 Secret',
    ]);
  });

  test('the PersistentVolume is a 1Gi ReadWriteOnce hostPath at /mnt/kiln-context of class manual', async () => {
    const pv = await load.pv();
    expect(pv.spec.hostPath.path).toBe('/mnt/kiln-context');
    expect(pv.spec.storageClassName).toBe('manual');
    expect(pv.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(pv.spec.capacity.storage).toBe('1Gi');
  });

  test('the claim binds that volume: same storage class, access mode and size', async () => {
    const [pv, pvc] = [await load.pv(), await load.pvc()];
    expect(pvc.spec.storageClassName).toBe(pv.spec.storageClassName);
    expect(pvc.spec.volumeName).toBe(pv.metadata.name);
    expect(pvc.spec.accessModes).toEqual(pv.spec.accessModes);
    expect(pvc.spec.resources.requests.storage).toBe(pv.spec.capacity.storage);
  });

  test('the Pod builds without pushing: Kiln image, exact args, the claim at /workspace, restartPolicy Never', async () => {
    const [pod, pvc] = [await load.pod(), await load.pvc()];
    expect(pod.metadata.name).toBe('kiln-build');
    expect(pod.spec.restartPolicy).toBe('Never');
    const c = kiln(pod.spec);
    expect(c.image).toBe(IMAGE);
    expect(c.args).toEqual(POD_ARGS);
    expect(volumeAt(pod.spec, '/workspace')?.persistentVolumeClaim?.claimName).toBe(pvc.metadata.name);
    expect(secretFiles(pod.spec, () => []).size, 'the dry build needs no credentials').toBe(0);
  });

  test('the Job pushes once: backoffLimit 0, exact args, the claim at /workspace, credentials at /kaniko/.docker/config.json', async () => {
    const [job, pvc, secret] = [await load.job(), await load.pvc(), await load.secret()];
    expect(job.metadata.name).toBe('kiln-push');
    expect(job.spec.backoffLimit).toBe(0);
    const spec = job.spec.template.spec;
    expect(spec.restartPolicy).toBe('Never');
    const c = kiln(spec);
    expect(c.image).toBe(IMAGE);
    expect(c.args).toEqual(JOB_ARGS);
    expect(volumeAt(spec, '/workspace')?.persistentVolumeClaim?.claimName).toBe(pvc.metadata.name);
    const files = secretFiles(spec, (name) => (name === secret.metadata.name ? Object.keys(secret.stringData) : []));
    expect(Object.fromEntries(files)).toEqual({ '/kaniko/.docker/config.json': `${SECRET_NAME}:config.json` });
  });

  test('the example Secret is the one the Job mounts, and its config.json is a Docker config with auths', async () => {
    const secret = await load.secret();
    expect(secret.metadata.name).toBe(SECRET_NAME);
    const config = z
      .object({ auths: z.record(z.string(), z.object({ auth: z.string() })) })
      .parse(JSON.parse(secret.stringData['config.json'] ?? 'null'));
    for (const { auth } of Object.values(config.auths))
      expect(Buffer.from(auth, 'base64').toString()).toMatch(/^[^:]+:.+$/);
  });

  test('nothing asks for more than default container privileges', async () => {
    const all = await Promise.all(
      Object.keys(KINDS).map(async (f) => [f, privilegeRequests(await readManifest(f))] as const),
    );
    expect(Object.fromEntries(all)).toEqual(Object.fromEntries(Object.keys(KINDS).map((f) => [f, []])));
    // The check itself sees what it must refuse.
    expect(
      privilegeRequests({
        spec: { containers: [{ securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }] },
      }),
    ).toEqual(['.spec.containers[0].securityContext.privileged', '.spec.containers[0].securityContext.capabilities']);
  });

  test('manifestArgs gives the containers args as written, and withDestination replaces only the destination', async () => {
    const args = await manifestArgs();
    expect(args).toEqual({ pod: POD_ARGS, job: JOB_ARGS });
    expect(withDestination(args.job, '127.0.0.1:5000/app:t')).toEqual([
      ...JOB_ARGS.slice(0, 2),
      '--destination=127.0.0.1:5000/app:t',
    ]);
    expect(() => withDestination(args.pod, 'x')).toThrow(/one --destination=/);
  });
});

/*
 * kubectl, offline. `kubectl apply --dry-run=client` and `kubectl create --dry-run=client` (with or
 * without --validate=false) still ask an API server for its resource list and fail with no cluster.
 * The `kubectl set` commands with --local never contact a server and decode each object into
 * Kubernetes' typed structs (wrong field types, unknown kinds and bad quantities are refused), so
 * `kubectl set env --local` checks every manifest: objects with a pod template come back as JSON
 * (fields kubectl does not know are dropped, so the source must survive the round trip); for the
 * other kinds it decodes the object, then says it has no pod template, naming the decoded Go type.
 */
const kubectlProbe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 60_000 });
const kubectlMissing =
  kubectlProbe.error !== undefined || kubectlProbe.status !== 0
    ? `kubectl is not usable (${kubectlProbe.error?.message ?? `exit ${kubectlProbe.status}: ${kubectlProbe.stderr.trim()}`})`
    : undefined;
if (kubectlMissing) console.warn(`deploy-manifests: skipping the kubectl checks: ${kubectlMissing}`);

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where `source` (parsed YAML) differs from or is missing in `output` (kubectl's JSON). */
function lostInRoundTrip(source: unknown, output: unknown, at = ''): string[] {
  if (Array.isArray(source)) {
    if (!Array.isArray(output)) return [at];
    return source.flatMap((v, i) => lostInRoundTrip(v, output[i], `${at}[${i}]`));
  }
  if (source !== null && typeof source === 'object') {
    if (output === null || typeof output !== 'object' || Array.isArray(output)) return [at];
    const out = output as Record<string, unknown>;
    return Object.entries(source).flatMap(([k, v]) => lostInRoundTrip(v, out[k], `${at}.${k}`));
  }
  return Object.is(source, output) ? [] : [at];
}

describe.skipIf(kubectlMissing !== undefined)(
  `kubectl decodes every manifest offline${kubectlMissing ? ` (skipped: ${kubectlMissing})` : ''}`,
  () => {
    let home = '';
    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'kiln-kubectl-'));
    });
    afterAll(async () => {
      if (home) await rm(home, { recursive: true, force: true });
    });

    /** Runs kubectl with no kubeconfig at all, so nothing can reach a cluster. */
    function kubectl(args: string[]): Promise<KubectlResult> {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: join(home, 'no-kubeconfig') };
      return new Promise((resolve) => {
        execFile('kubectl', args, { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
          resolve({ code, stdout, stderr });
        });
      });
    }

    const check = (file: string) =>
      kubectl(['set', 'env', '--local', '-o', 'json', '-f', join(K8S_DIR, file), 'KILN_MANIFEST_CHECK=1']);

    test.each(['pod.yaml', 'job.yaml'])("%s survives kubectl's typed decoding unchanged", async (file) => {
      const r = await check(file);
      expect(r.code, r.stderr).toBe(0);
      const out: unknown = JSON.parse(r.stdout);
      expect(out).toMatchObject({ kind: KINDS[file] });
      expect(lostInRoundTrip(await readManifest(file), out), 'fields kubectl dropped or changed').toEqual([]);
    });

    test.each(['volume.yaml', 'volume-claim.yaml', 'registry-secret.example.yaml'])(
      '%s decodes as its typed kind',
      async (file) => {
        const r = await check(file);
        // Decoded into the typed object, then refused only for having no pod template.
        expect(r.stderr).toMatch(new RegExp(`not a pod or does not have a pod template: \\*v1\\.${KINDS[file]}\\s*$`));
      },
    );

    test('a broken manifest is refused (the check can fail)', async () => {
      const dir = await mkdtemp(join(home, 'bad-'));
      await writeFile(
        join(dir, 'job.yaml'),
        'apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {backoffLimit: "zero"}\n',
      );
      await writeFile(
        join(dir, 'pv.yaml'),
        'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: x}\nspec: {capacity: {storage: lots}}\n',
      );
      for (const f of ['job.yaml', 'pv.yaml']) {
        const r = await kubectl(['set', 'env', '--local', '-o', 'json', '-f', join(dir, f), 'KILN_MANIFEST_CHECK=1']);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/unable to decode/);
      }
    });
  },
);
