/**
 * podman for the end-to-end tests of Kiln's own image, set up as this machine kind needs
 * (ARCHITECTURE.md §10): the runc runtime, cgroupfs, and ulimits lowered to what a process without
 * CAP_SYS_RESOURCE may set, in a containers.conf named by CONTAINERS_CONF. Storage lives in a
 * private temp directory, so the tests neither read nor leave images in /var/lib/containers.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A podman with private storage; `run` resolves with the exit code and output of `podman run`. */
export interface Podman {
  run(args: string[], opts?: { timeoutMs?: number }): Promise<PodmanResult>;
  /** Why podman cannot start a container here, or undefined when it can (checked with `image`). */
  unusable(image: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

export interface PodmanResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
`;

function spawnPodman(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<PodmanResult> {
  return new Promise((resolve) => {
    const child = spawn('podman', argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ exitCode: null, stdout, stderr: `${stderr}${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}

/** A podman whose storage and configuration are private to the caller. */
export async function makePodman(): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-podman-'));
  await mkdir(join(dir, 'storage'));
  await writeFile(join(dir, 'containers.conf'), CONTAINERS_CONF);
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const global = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const run = (args: string[], opts: { timeoutMs?: number } = {}): Promise<PodmanResult> =>
    spawnPodman([...global, 'run', '--rm', ...args], env, opts.timeoutMs ?? 120_000);
  return {
    run,
    async unusable(image) {
      const r = await run([image, 'version'], { timeoutMs: 60_000 });
      if (r.exitCode === 0) return undefined;
      return `podman cannot start a container here (exit ${String(r.exitCode)}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    },
    async cleanup() {
      // vfs layers are plain directories; podman's own `system reset` would also do, slower.
      await rm(dir, { recursive: true, force: true });
    },
  };
}
