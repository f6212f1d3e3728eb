import { describe, expect, test } from 'vitest';
import { DEFAULT_CAPABILITIES, ociSpec, type OciMount } from './oci-spec.js';
import type { RunSpec } from './runner.js';

const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
  argv: ['/bin/sh', '-c', 'true'],
  env: ['PATH=/bin'],
  cwd: '/',
  user: { uid: 0, gid: 0 },
  rootfs: '/work/stage-0',
  mounts: { dev: true, proc: true, sys: true, resolvConf: true, hosts: true, hostname: true },
  onOutput: () => undefined,
  ...over,
});

type Spec = {
  process: { capabilities: Record<string, string[]> };
  mounts: OciMount[];
  linux: { namespaces: { type: string }[] };
};
const built = (s: RunSpec, overlays: Parameters<typeof ociSpec>[1]['overlays'] = []): Spec =>
  ociSpec(s, {
    hostname: 'h',
    resolvConf: '/b/resolv.conf',
    hosts: '/b/hosts',
    hostnameFile: '/b/hostname',
    overlays,
  }) as unknown as Spec;

describe('ociSpec', () => {
  test("root gets Docker's default capabilities in every set but inheritable and ambient; others only as bounding set", () => {
    const root = built(spec()).process.capabilities;
    expect(root.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(root.effective).toEqual([...DEFAULT_CAPABILITIES]);
    expect(root.inheritable).toEqual([]);
    expect(root.bounding).not.toContain('CAP_SYS_ADMIN');
    const app = built(spec({ user: { uid: 1000, gid: 1000 } })).process.capabilities;
    expect(app.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(app.effective).toEqual([]);
    expect(app.permitted).toEqual([]);
  });

  test('/sys is a read-only bind with the host network and a fresh sysfs in a network namespace of its own', () => {
    const host = built(spec());
    expect(host.mounts.find((m) => m.destination === '/sys')).toMatchObject({
      type: 'bind',
      options: expect.arrayContaining(['ro', 'rbind']),
    });
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain('network');
    const none = built(spec({ network: 'none' }));
    expect(none.mounts.find((m) => m.destination === '/sys')).toMatchObject({
      type: 'sysfs',
      options: expect.arrayContaining(['ro']),
    });
    expect(none.linux.namespaces.map((n) => n.type)).toContain('network');
  });

  test('mount points the rootfs has no place for are left out; resolv.conf and hosts are the private copies', () => {
    const s = built(
      spec({ mounts: { dev: false, proc: true, sys: false, resolvConf: true, hosts: false, hostname: false } }),
    );
    expect(s.mounts.map((m) => m.destination)).toEqual(['/proc', '/etc/resolv.conf']);
    expect(s.mounts[1]?.source).toBe('/b/resolv.conf');
  });

  test('resolv.conf, hosts and hostname are bound writable from the private copies, as Docker binds them', () => {
    const s = built(spec());
    expect(s.mounts.filter((m) => m.destination.startsWith('/etc/'))).toEqual(
      ['resolv.conf', 'hosts', 'hostname'].map((name) => ({
        destination: `/etc/${name}`,
        type: 'bind',
        source: `/b/${name}`,
        options: ['bind', 'nosuid', 'nodev', 'noexec'],
      })),
    );
  });

  test('RUN --mount targets become image paths; rw directories are overlays or private copies', () => {
    const extra = {
      scratch: '/s',
      locks: [],
      mounts: [
        { kind: 'bind' as const, source: '/ctx', target: '/work/stage-0/src', readonly: true },
        { kind: 'overlay' as const, source: '/ctx/a', target: '/work/stage-0/a' },
        { kind: 'overlay' as const, source: '/ctx/b', target: '/work/stage-0/b' },
        { kind: 'tmpfs' as const, target: '/work/stage-0/t', sizeBytes: 4096 },
      ],
    };
    const s = built(spec({ extra }), [{ upper: '/s/0/upper', work: '/s/0/work' }, { copy: '/s/1' }]);
    const run = s.mounts.filter(
      (m) =>
        ![
          '/proc',
          '/dev',
          '/dev/pts',
          '/dev/shm',
          '/dev/mqueue',
          '/sys',
          '/etc/resolv.conf',
          '/etc/hosts',
          '/etc/hostname',
        ].includes(m.destination),
    );
    expect(run).toEqual([
      { destination: '/src', type: 'bind', source: '/ctx', options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      {
        destination: '/a',
        type: 'overlay',
        source: 'overlay',
        options: ['lowerdir=/ctx/a', 'upperdir=/s/0/upper', 'workdir=/s/0/work'],
      },
      { destination: '/b', type: 'bind', source: '/s/1', options: ['rbind', 'rw', 'nosuid', 'nodev'] },
      { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=4096'] },
    ]);
  });

  test('a mount target outside the rootfs is a bug, never a mount', () => {
    const extra = { scratch: '/s', locks: [], mounts: [{ kind: 'tmpfs' as const, target: '/etc' }] };
    expect(() => built(spec({ extra }))).toThrow(/outside the rootfs/);
  });
});

describe('the seccomp filter', () => {
  const filter = (
    ociSpec(spec(), { hostname: 'h', overlays: [] }) as unknown as {
      linux: {
        seccomp: {
          defaultAction: string;
          syscalls: { names: string[]; action: string; args?: { value: number; valueTwo: number; op: string }[] }[];
        };
      };
    }
  ).linux.seccomp;

  test('allows by default and denies mounts, namespaces, modules, keyrings and bpf', () => {
    expect(filter.defaultAction).toBe('SCMP_ACT_ALLOW');
    const denied = filter.syscalls.filter((r) => !r.args).flatMap((r) => r.names);
    for (const name of [
      'mount',
      'umount2',
      'pivot_root',
      'unshare',
      'setns',
      'init_module',
      'keyctl',
      'bpf',
      'open_by_handle_at',
    ])
      expect(denied).toContain(name);
    expect(denied).not.toContain('chroot');
  });

  test('denies clone only with a namespace flag, one rule per flag (rules of a syscall are OR-ed)', () => {
    const clone = filter.syscalls.filter((r) => r.names.includes('clone'));
    const flags = clone.map((r) => r.args?.[0]);
    expect(flags.every((a) => a?.op === 'SCMP_CMP_MASKED_EQ' && a.value === a.valueTwo)).toBe(true);
    expect(flags.map((a) => a?.value)).toContain(0x10000000); // CLONE_NEWUSER
    expect(flags.map((a) => a?.value)).not.toContain(0x00010000); // CLONE_THREAD stays allowed
  });
});
