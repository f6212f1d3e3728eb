import { expect, test } from 'vitest';
import { detectContainer, type ContainerFacts } from './container.js';

/** A mountinfo whose `/` is the given `ROOT MOUNT-POINT OPTIONS - FSTYPE SOURCE SUPER` tail, beside the usual kernel mounts. */
const mounts = (rootLine: string): string =>
  [
    '22 27 0:21 / /proc rw,relatime - proc proc rw',
    '23 27 0:22 / /sys rw,relatime - sysfs sysfs rw',
    `27 1 254:0 ${rootLine}`,
    '24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,mode=755',
  ].join('\n');

const HOST_EXT4 = mounts('/ / rw,relatime - ext4 /dev/vda rw,discard');
const DOCKER_OVERLAY = mounts(
  '/ / rw,relatime master:253 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/123/diff,workdir=/var/lib/docker/overlay2/123/work',
);
const CONTAINERD_OVERLAY = mounts(
  '/ / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/13/fs,workdir=/x',
);
const PODMAN_ROOTLESS_OVERLAY = mounts(
  '/ / rw,relatime - overlay overlay rw,lowerdir=/home/u/.local/share/containers/storage/overlay/l/XYZ,upperdir=/u,workdir=/w',
);
const FUSE_OVERLAY = mounts('/ / rw,nodev,relatime - fuse.fuse-overlayfs fuse-overlayfs rw,user_id=0,group_id=0');
const DOCKER_VFS = mounts('/var/lib/docker/vfs/dir/0a1b / rw,relatime - ext4 /dev/sda1 rw');
const LIVE_CD = mounts(
  '/ / rw,noatime - overlay overlay rw,lowerdir=/run/live/rootfs/filesystem.squashfs/,upperdir=/run/live/overlay/rw,workdir=/run/live/overlay/work',
);
const BTRFS_SNAPSHOT = mounts(
  '/@/.snapshots/1/snapshot / rw,relatime shared:1 - btrfs /dev/nvme0n1p2 rw,subvol=/@/.snapshots/1/snapshot',
);
const HOST_CGROUP_V2 = '0::/init.scope\n';
const NS_CGROUP_V2 = '0::/\n';

const facts = (f: Partial<ContainerFacts>): ContainerFacts => ({
  dockerenv: false,
  containerenv: false,
  env: {},
  cgroup: HOST_CGROUP_V2,
  mountinfo: HOST_EXT4,
  ...f,
});

test.each<[string, Partial<ContainerFacts>, boolean, RegExp]>([
  // Hosts, including ones that look a little like containers.
  ['a plain host', {}, false, /^$/],
  ['a Firecracker VM made from a Docker image (/.dockerenv on an ext4 root)', { dockerenv: true }, false, /^$/],
  ['a live system with an overlay root', { mountinfo: LIVE_CD }, false, /^$/],
  ['a btrfs host booted from a snapshot subvolume', { mountinfo: BTRFS_SNAPSHOT }, false, /^$/],
  ['a host whose /proc cannot be read', { cgroup: undefined, mountinfo: undefined }, false, /^$/],
  ['a host with an empty container variable', { env: { container: ' ' } }, false, /^$/],
  // Containers.
  [
    'Docker (cgroup v2 namespace, overlay2)',
    { dockerenv: true, cgroup: NS_CGROUP_V2, mountinfo: DOCKER_OVERLAY },
    true,
    /overlay of container image layers/,
  ],
  [
    'Docker on cgroup v1',
    { dockerenv: true, cgroup: '12:memory:/docker/0123abcd\n11:pids:/docker/0123abcd\n' },
    true,
    /cgroup names docker/,
  ],
  [
    'Docker with the vfs storage driver',
    { mountinfo: DOCKER_VFS },
    true,
    /\/var\/lib\/docker\/vfs\/dir\/0a1b of a container store/,
  ],
  [
    'Docker with the systemd cgroup driver',
    { cgroup: '0::/system.slice/docker-0123.scope\n' },
    true,
    /cgroup names docker/,
  ],
  [
    'podman',
    { containerenv: true, env: { container: 'podman' }, cgroup: NS_CGROUP_V2 },
    true,
    /\/run\/\.containerenv exists, container=podman/,
  ],
  [
    'podman without a cgroup namespace',
    { cgroup: '0::/machine.slice/libpod-abc.scope/container\n' },
    true,
    /cgroup names libpod/,
  ],
  ['rootless podman on fuse-overlayfs', { mountinfo: FUSE_OVERLAY }, true, /fuse-overlayfs/],
  [
    'rootless podman on native overlay',
    { mountinfo: PODMAN_ROOTLESS_OVERLAY },
    true,
    /overlay of container image layers/,
  ],
  [
    'a Kubernetes pod (containerd)',
    { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, cgroup: NS_CGROUP_V2, mountinfo: CONTAINERD_OVERLAY },
    true,
    /KUBERNETES_SERVICE_HOST.*overlay of container image layers/,
  ],
  [
    'a Kubernetes pod on cgroup v1',
    { cgroup: '11:pids:/kubepods/burstable/pod12/ab\n' },
    true,
    /cgroup names kubepods/,
  ],
  ['systemd-nspawn', { env: { container: 'systemd-nspawn' } }, true, /container=systemd-nspawn/],
])('%s: in a container = %s', (_name, f, inContainer, evidence) => {
  const v = detectContainer(facts(f));
  expect(v.inContainer).toBe(inContainer);
  expect(v.evidence.join(', ')).toMatch(evidence);
});

test.each<[string, Partial<ContainerFacts>, RegExp]>([
  ['/.dockerenv', { dockerenv: true }, /^\/\.dockerenv$/],
  ['an overlay root of unknown origin', { mountinfo: LIVE_CD }, /an overlay \/ of unknown origin/],
  ['a subvolume root', { mountinfo: BTRFS_SNAPSHOT }, /subtree \/@\/\.snapshots\/1\/snapshot/],
])('%s is reported as a hint that does not suffice alone', (_name, f, hint) => {
  const v = detectContainer(facts(f));
  expect(v.inContainer).toBe(false);
  expect(v.weak.join('; ')).toMatch(hint);
});

test('a host cgroup that merely contains a runtime-like word is not a container', () => {
  expect(
    detectContainer(facts({ cgroup: '0::/user.slice/user-1000.slice/session-dockerish.scope\n' })).inContainer,
  ).toBe(false);
});
