import { describe, expect, test } from 'vitest';
import { decideIsolation, type IsolationProbes } from './select.js';

const probes = (over: Partial<IsolationProbes> & { works?: Record<string, string | true> } = {}): IsolationProbes => ({
  namespaces: () => Promise.resolve(true),
  runc: true,
  runcWorks: (flags) => {
    const got = over.works?.[flags.join(' ')] ?? true;
    return Promise.resolve(got === true ? { ok: true } : { ok: false, why: got });
  },
  inContainer: () => Promise.resolve(false),
  ...over,
});

describe('decideIsolation', () => {
  test('namespaces and a working runc: every step is a runc container', async () => {
    expect(await decideIsolation(probes())).toMatchObject({ kind: 'runc', flags: [] });
  });

  test('no namespaces (default container capabilities): chroot, the container being the boundary', async () => {
    const got = await decideIsolation(probes({ namespaces: () => Promise.resolve(false) }));
    expect(got).toMatchObject({ kind: 'chroot', reason: expect.stringMatching(/container is the boundary/) });
    // What the step gets and lacks, as it is (issue 13): no /proc, but the host's DNS, hosts and hostname.
    const reason = got.kind === 'chroot' ? got.reason : '';
    expect(reason).toMatch(/no \/proc/);
    expect(reason).toMatch(/\/dev\/shm/);
    expect(reason).toMatch(/host's resolv\.conf, hosts and hostname/);
  });

  test('on a host, namespaces without runc or with a broken runc: RUN is refused, never a plain chroot', async () => {
    expect(await decideIsolation(probes({ runc: false }))).toEqual({
      kind: 'refuse',
      why: 'runc was not found on PATH',
    });
    expect(await decideIsolation(probes({ works: { '': 'pivot_root: invalid argument' } }))).toEqual({
      kind: 'refuse',
      why: 'pivot_root: invalid argument',
    });
  });

  test('in a container with read-only cgroups, runc runs without cgroups of its own', async () => {
    const got = await decideIsolation(
      probes({
        inContainer: () => Promise.resolve(true),
        works: { '': 'mkdir /sys/fs/cgroup/cpuset/x: read-only file system (cgroup)' },
      }),
    );
    expect(got).toMatchObject({ kind: 'runc', flags: ['--rootless=true'] });
  });

  test('in a container where runc cannot run at all: chroot, naming why', async () => {
    const got = await decideIsolation(
      probes({
        inContainer: () => Promise.resolve(true),
        works: { '': 'cgroup trouble', '--rootless=true': 'still no' },
      }),
    );
    expect(got).toMatchObject({
      kind: 'chroot',
      reason: expect.stringMatching(/runc cannot run here \(cgroup trouble\).*host's resolv\.conf, hosts and hostname/),
    });
    expect(await decideIsolation(probes({ runc: false, inContainer: () => Promise.resolve(true) }))).toMatchObject({
      kind: 'chroot',
    });
  });
});
