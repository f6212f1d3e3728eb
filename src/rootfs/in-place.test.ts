import { expect, test } from 'vitest';
import { ALWAYS_KEPT, inPlaceKeepList } from './in-place.js';
import { parseMountinfo, rootMount } from './mountinfo.js';

/** The mount table of a Kubernetes pod running Kiln's image (trimmed). */
const POD = `
1450 1300 0:310 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/x,upperdir=/u,workdir=/w
1451 1450 0:313 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1452 1450 0:314 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
1453 1452 0:315 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
1454 1452 0:300 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
1455 1450 0:301 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
1456 1455 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw
1457 1450 8:1 /var/lib/kubelet/pods/p1/volumes/kubernetes.io~empty-dir/workspace /workspace rw,relatime - ext4 /dev/sda1 rw
1458 1450 8:1 /var/lib/kubelet/pods/p1/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
1459 1450 8:1 /var/lib/kubelet/pods/p1/containers/kiln/term /dev/termination-log rw,relatime - ext4 /dev/sda1 rw
1460 1450 8:1 /var/lib/containerd/sandboxes/s1/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw
1461 1450 8:1 /var/lib/containerd/sandboxes/s1/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw
1462 1450 0:299 / /kaniko/.docker ro,relatime - tmpfs tmpfs rw,size=4k
1463 1450 0:298 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw
1464 1450 0:297 / /mnt/my\\040cache rw,relatime - tmpfs tmpfs rw
`;

test('mountinfo: mount points are unescaped, the root mount is the last one at /', () => {
  const m = parseMountinfo(POD);
  expect(m.map((e) => e.mountPoint)).toContain('/mnt/my cache');
  expect(rootMount(m)).toMatchObject({ fstype: 'overlay', root: '/' });
  expect(
    rootMount(parseMountinfo('1 0 0:1 / / rw - ext4 /dev/a rw\n2 1 0:2 / / rw - overlay overlay rw\n'))?.fstype,
  ).toBe('overlay');
  expect(parseMountinfo('garbage\n\n1 2 3\n')).toEqual([]);
});

test.each<[string, { mountinfo: string; own?: string[]; ignorePaths?: string[] }, string[]]>([
  ['nothing readable: the kernel filesystems still', { mountinfo: '' }, [...ALWAYS_KEPT]],
  [
    'a pod: every mount point but / (those under /dev, /proc and /sys are covered)',
    { mountinfo: POD },
    [
      '/dev',
      '/etc/hostname',
      '/etc/hosts',
      '/etc/resolv.conf',
      '/kaniko/.docker',
      '/mnt/my cache',
      '/proc',
      '/sys',
      '/var/run/secrets/kubernetes.io/serviceaccount',
      '/workspace',
    ],
  ],
  [
    "Kiln's own paths and --ignore-paths, normalised; covered paths dropped",
    {
      mountinfo: POD,
      own: ['/kaniko', '/kaniko/kiln-build-1', '/workspace/ctx', '/usr/local/bin/node', '/'],
      ignorePaths: ['/var/run', 'cache/', '/tmp/x/../y'],
    },
    [
      '/cache',
      '/dev',
      '/etc/hostname',
      '/etc/hosts',
      '/etc/resolv.conf',
      '/kaniko',
      '/mnt/my cache',
      '/proc',
      '/sys',
      '/tmp/y',
      '/usr/local/bin/node',
      '/var/run',
      '/workspace',
    ],
  ],
  [
    'siblings that share a prefix are not covered',
    { mountinfo: '', own: ['/a', '/a-b', '/a/c', '/ab'] },
    ['/a', '/a-b', '/ab', '/dev', '/proc', '/sys'],
  ],
])('%s', (_name, input, expected) => {
  expect(inPlaceKeepList({ own: [], ignorePaths: [], ...input })).toEqual(expected);
});
