/**
 * The "namespaces" runner: each RUN step is a container run by `runc` (the OCI runtime Docker,
 * containerd and BuildKit use) from a generated runtime spec (oci-spec.ts). runc gives the step
 * `pivot_root` with the old root detached, Docker's default capabilities with the bounding set cut,
 * masked and read-only /proc paths, a device cgroup, and closes every descriptor but stdio — the
 * properties a plain chroot lacks (a root process escapes one through a descriptor to `/`).
 * An in-place step (`--rootfs=/`) cannot be pivoted into and runs as Kaniko's does, the container
 * being the boundary (spawn-runner.ts).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './run-tool.js';
import { ociSpec, type SpecHost } from './oci-spec.js';
import type { ProcessRunner, RunSpec } from './runner.js';
import { lockPrefix, runSpawned, spawnRunner, type HostTools } from './spawn-runner.js';

/** statfs magic of overlayfs: an overlay's upper directory cannot live on one. */
const OVERLAYFS_MAGIC = 0x794c7630;

/** Where the runner keeps runc's state and the steps' bundles, and what it tells the step of the host. */
export interface RuncHost {
  /**
   * Global flags for every runc call: `--rootless=true` where Kiln runs in a container whose
   * cgroups are read-only (runc then makes none of its own, and device access is limited by the
   * container's device cgroup instead).
   */
  flags: readonly string[];
  /** A directory of this build, removed with it. */
  workDir: string;
  hostname: string;
  /** The host's /etc/resolv.conf and /etc/hosts, copied for each step (writes to them are discarded). */
  resolvConf: string;
  hosts: string;
}

/** Runs `argv` to completion; a program that cannot be started is an exit status of null, with the reason as its stderr. */
function tool(argv: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const [cmd = '', ...args] = argv;
  return runTool(cmd, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).catch((e: unknown) => ({
    code: null,
    stderr: e instanceof Error ? e.message : String(e),
  }));
}

/** Copies a host file for the step, or undefined when the host has none. */
async function hostCopy(src: string, dest: string): Promise<string | undefined> {
  try {
    await copyFile(src, dest);
    return dest;
  } catch {
    return undefined;
  }
}

/** Upper and work directories for each overlay mount, or a private copy where overlayfs cannot stack. */
async function overlayDirs(spec: RunSpec, tools: HostTools): Promise<SpecHost['overlays']> {
  const extra = spec.extra;
  const overlays = extra?.mounts.filter((m) => m.kind === 'overlay') ?? [];
  if (!extra || overlays.length === 0) return [];
  const onOverlay = (await statfs(extra.scratch)).type === OVERLAYFS_MAGIC;
  const out: SpecHost['overlays'] = [];
  for (const [i, m] of overlays.entries()) {
    const dir = join(extra.scratch, String(i));
    if (onOverlay) {
      // `cp -a` keeps owners, modes, links and times, as the step would see the source.
      const got = await tool([tools.cp ?? 'cp', '-a', `${m.source}/.`, dir]);
      if (got.code !== 0) throw new Error(`copying a writable RUN --mount source: ${got.stderr.trim()}`);
      out.push({ copy: dir });
    } else {
      await mkdir(join(dir, 'upper'), { recursive: true });
      await mkdir(join(dir, 'work'));
      out.push({ upper: join(dir, 'upper'), work: join(dir, 'work') });
    }
  }
  return out;
}

/** A runner that isolates each step with runc; in-place steps go to `inPlace`. */
export function runcRunner(runc: string, tools: HostTools, host: RuncHost, reason: string): ProcessRunner {
  const inPlace = spawnRunner('namespaces', tools, reason);
  const state = join(host.workDir, 'runc', 'state');
  let steps = 0;
  return {
    mode: 'namespaces',
    reason,
    async run(spec, signal) {
      if (spec.rootfs === '/') return inPlace.run(spec, signal);
      const id = `kiln-${process.pid}-${++steps}-${randomBytes(4).toString('hex')}`;
      const bundle = join(host.workDir, 'runc', id);
      await mkdir(bundle, { recursive: true, mode: 0o700 });
      await mkdir(state, { recursive: true, mode: 0o700 });
      const runcCmd = (...args: string[]): string[] => [runc, ...host.flags, '--root', state, ...args];
      try {
        const specHost: SpecHost = {
          hostname: host.hostname,
          overlays: await overlayDirs(spec, tools),
        };
        const resolvConf = spec.mounts.resolvConf
          ? await hostCopy(host.resolvConf, join(bundle, 'resolv.conf'))
          : undefined;
        const hosts = spec.mounts.hosts ? await hostCopy(host.hosts, join(bundle, 'hosts')) : undefined;
        if (resolvConf) specHost.resolvConf = resolvConf;
        if (hosts) specHost.hosts = hosts;
        if (spec.mounts.hostname) {
          // Docker's /etc/hostname names the container; a step's is the host's or pod's, as Kaniko's RUN sees it.
          specHost.hostnameFile = join(bundle, 'hostname');
          await writeFile(specHost.hostnameFile, `${host.hostname}\n`, { mode: 0o644 });
        }
        await writeFile(join(bundle, 'config.json'), JSON.stringify(ociSpec(spec, specHost)), { mode: 0o600 });
        const argv = [...lockPrefix(tools, spec.extra?.locks ?? []), ...runcCmd('run', '--bundle', bundle, id)];
        return await runSpawned(argv, spec, signal, {
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
          stop: async () => void (await tool(runcCmd('kill', id, 'KILL'))),
        });
      } finally {
        // runc removes a container whose process ended; one it could not (Kiln's abort killed runc
        // itself) is forced out, with its cgroup.
        await tool(runcCmd('delete', '--force', id));
        await rm(bundle, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Whether runc can run a container here: cgroups, namespaces, mounts and pivot_root all work.
 * The probe's process does not exist, so runc fails at its very last step, the exec — and says so.
 */
export async function runcWorks(
  runc: string,
  workDir: string,
  flags: readonly string[] = [],
): Promise<{ ok: true } | { ok: false; why: string }> {
  const dir = join(workDir, 'runc', 'probe');
  const root = join(dir, 'rootfs');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const id = `kiln-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  const state = join(workDir, 'runc', 'state');
  const spec = ociSpec(
    {
      argv: ['/kiln-runc-probe'],
      env: [],
      cwd: '/',
      user: { uid: 0, gid: 0 },
      rootfs: root,
      mounts: { dev: true, proc: true, sys: false, resolvConf: false, hosts: false, hostname: false },
      onOutput: () => undefined,
    },
    { hostname: 'kiln', overlays: [] },
  );
  await writeFile(join(dir, 'config.json'), JSON.stringify(spec));
  try {
    const got = await tool([runc, ...flags, '--root', state, 'run', '--bundle', dir, id]);
    if (/exec: \\?"\/kiln-runc-probe\\?"/.test(got.stderr)) return { ok: true };
    // runc logs `level=error msg="…"`; its warnings before it are not the reason.
    const why = /level=error msg="((?:[^"\\]|\\.)*)"/.exec(got.stderr)?.[1] ?? got.stderr.trim();
    return { ok: false, why: why || `runc exited with status ${String(got.code)}` };
  } finally {
    await tool([runc, ...flags, '--root', state, 'delete', '--force', id]);
    await rm(dir, { recursive: true, force: true });
  }
}
