/**
 * Does this process run inside a container? `--rootfs=/` (an in-place build over `/`,
 * ARCHITECTURE.md §4) is only allowed there, so the answer must err towards "no": a false "yes" on a developer's
 * machine would let a build wipe it. The facts are read at the edge (`host-facts.ts`); this
 * module only weighs them. PURE.
 *
 * Signals that suffice alone (each is set up by a container runtime, not by a host):
 * - `/run/.containerenv`: written by podman and CRI-O into every container;
 * - the `container` environment variable: podman, systemd-nspawn, LXC, flatpak;
 * - `KUBERNETES_SERVICE_HOST`: the kubelet sets it in every pod;
 * - `/proc/1/cgroup` naming a runtime (docker, kubepods, libpod, containerd, crio, lxc, …):
 *   cgroup v1, or v2 without a cgroup namespace;
 * - `/` being an overlay (or a bind of a subtree) whose options name a container store
 *   (`/var/lib/docker`, `/var/lib/containers`, containerd snapshots, …), or fuse-overlayfs.
 *
 * Hints that do not suffice alone, reported when refusing: `/.dockerenv` (a plain file of the
 * image, which survives when an image is turned into a VM disk or a chroot — exactly what a
 * Firecracker VM made from a Docker image looks like), an overlay `/` of unknown origin (live
 * systems, composefs-based immutable distributions), a `/` that is a subtree of its filesystem
 * (btrfs subvolumes on openSUSE and Fedora hosts).
 */
import { parseMountinfo, rootMount } from './mountinfo.js';

/** What the edge reads for {@link detectContainer}. */
export interface ContainerFacts {
  /** `/.dockerenv` exists. */
  dockerenv: boolean;
  /** `/run/.containerenv` exists. */
  containerenv: boolean;
  /** The process environment (only `container` and `KUBERNETES_SERVICE_HOST` are looked at). */
  env: Readonly<Record<string, string | undefined>>;
  /** Text of `/proc/1/cgroup`; undefined when it cannot be read. */
  cgroup?: string;
  /** Text of `/proc/self/mountinfo`; undefined when it cannot be read. */
  mountinfo?: string;
}

/** The outcome of {@link detectContainer}, with the reasons for messages. */
export interface ContainerVerdict {
  inContainer: boolean;
  /** Signals that show a container (empty when {@link inContainer} is false). */
  evidence: string[];
  /** Hints that were found but do not show a container on their own. */
  weak: string[];
}

/** Container runtimes as they name cgroups (`/docker/ID`, `/kubepods/…`, `libpod-ID.scope`, …). */
const RUNTIME_CGROUP =
  /(?:^|[/.:_-])(docker|kubepods|libpod|containerd|cri-containerd|crio|lxc|buildkit|actions_job|garden)(?=$|[/.:_-])/;

/** Storage directories of container runtimes, as overlay options or a bind's root show them. */
const CONTAINER_STORE =
  /\/var\/lib\/(?:docker|containers|containerd|rancher|kubelet)\/|containers\/storage\/|io\.containerd\.snapshotter|\/overlay2\//;

function cgroupEvidence(cgroup: string | undefined): string | undefined {
  for (const line of (cgroup ?? '').split('\n')) {
    // hierarchy-ID:controllers:path
    const path = line.split(':').slice(2).join(':');
    const m = RUNTIME_CGROUP.exec(path);
    if (m) return `/proc/1/cgroup names ${m[1] ?? 'a container runtime'}`;
  }
  return undefined;
}

/** What the mount at `/` says: a container store (strong), or only an unusual root (weak). */
function rootEvidence(mountinfo: string | undefined): { strong?: string; weak?: string } {
  const root = rootMount(parseMountinfo(mountinfo ?? ''));
  if (!root) return {};
  if (root.fstype === 'fuse.fuse-overlayfs' || root.source === 'fuse-overlayfs')
    return { strong: '/ is a fuse-overlayfs' };
  const layered = root.fstype === 'overlay' || root.fstype === 'aufs';
  if (layered && CONTAINER_STORE.test(root.superOptions))
    return { strong: `/ is an ${root.fstype} of container image layers` };
  if (root.root !== '/' && CONTAINER_STORE.test(root.root)) return { strong: `/ is ${root.root} of a container store` };
  if (layered) return { weak: `an ${root.fstype} / of unknown origin` };
  if (root.root !== '/') return { weak: `a / that is the subtree ${root.root} of its filesystem` };
  return {};
}

/** Weighs the facts: inside a container when at least one signal that suffices alone is present. */
export function detectContainer(f: ContainerFacts): ContainerVerdict {
  const evidence: string[] = [];
  const weak: string[] = [];
  if (f.containerenv) evidence.push('/run/.containerenv exists');
  const container = f.env.container?.trim();
  if (container) evidence.push(`container=${container}`);
  if (f.env.KUBERNETES_SERVICE_HOST?.trim()) evidence.push('KUBERNETES_SERVICE_HOST is set');
  const cgroup = cgroupEvidence(f.cgroup);
  if (cgroup) evidence.push(cgroup);
  const root = rootEvidence(f.mountinfo);
  if (root.strong) evidence.push(root.strong);
  if (root.weak) weak.push(root.weak);
  if (f.dockerenv) weak.push('/.dockerenv');
  return { inContainer: evidence.length > 0, evidence, weak };
}
