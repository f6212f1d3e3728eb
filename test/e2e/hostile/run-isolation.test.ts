/**
 * Hostile corpus, RUN isolation (issue 11, finding 1): a root process inside RUN, in "namespaces"
 * isolation (root with mount privileges, as here), tries the classic ways out of a chroot and into
 * the host — an fd to `/` kept across a deeper chroot, a device node for the host's disk, the
 * kernel's knobs under /proc, mounts — and none of them reaches outside the rootfs. The step's
 * capabilities and mounts are Docker's defaults, and no descriptor of Kiln's leaks into it.
 * Each case writes its markers to stdout (RUN output) and checks a sentinel on the host.
 */
import { access, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir, type ExecutorResult } from '../../support/executor.js';
import { useRegistryWithBusybox } from '../../support/suite.js';

const env = useRegistryWithBusybox();

/** A build bounded well below the test timeout: a hang is a failure, not a stuck suite. */
const BOUND_MS = 60_000;

async function build(dockerfile: string): Promise<ExecutorResult> {
  const ctx = await tempDir('hostile-run');
  await writeFile(join(ctx, 'Dockerfile'), `ARG BASE\n${dockerfile}`);
  const started = Date.now();
  const r = await runExecutor(
    ['--context', ctx, '--no-push', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`],
    { timeoutMs: BOUND_MS },
  );
  expect(r.exitCode, `the build hung (${Date.now() - started} ms)\n${r.stderr}`).not.toBeNull();
  return r;
}

/** `major:minor` of the host's root filesystem device, from this process's mountinfo. */
async function rootDevice(): Promise<string> {
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = line.split(' ');
    if (f[4] === '/') return f[2] ?? '';
  }
  throw new Error('no / in mountinfo');
}

test('the fd-and-chroot escape, as root inside RUN, does not reach the host', async () => {
  const outside = await tempDir('hostile-sentinel');
  const r = await build(`FROM \${BASE}
RUN mkdir -p /x/proc /x/bin && cp /bin/busybox /x/bin/busybox && \\
    (mount -t proc proc /x/proc 2>/dev/null || echo KILN-NO-MOUNT); \\
    exec 3</; \\
    chroot /x /bin/busybox sh -c 'cd -P /proc/self/fd/3 && cd -P ../../../../../../../../.. && echo pwned > ".${outside}/pwned" && echo KILN-ESCAPED'; \\
    echo KILN-DONE
`);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toContain('KILN-DONE');
  expect(r.stdout).not.toContain('KILN-ESCAPED');
  expect(await readdir(outside)).toEqual([]);
});

test("a node for the host's disk, made with mknod inside RUN, cannot be read", async () => {
  const [major, minor] = (await rootDevice()).split(':');
  const r = await build(`FROM \${BASE}
RUN mknod /disk b ${major} ${minor} 2>/dev/null || echo KILN-NO-MKNOD; \\
    if head -c 512 /disk 2>/dev/null | wc -c | grep -qx 512; then echo KILN-READ-DISK; else echo KILN-DISK-DENIED; fi; \\
    rm -f /disk
`);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toContain('KILN-DISK-DENIED');
  expect(r.stdout).not.toContain('KILN-READ-DISK');
});

test('/proc/sys and /proc/sysrq-trigger are read-only, and mount and user namespaces are refused inside RUN', async () => {
  const knob = '/proc/sys/vm/overcommit_ratio';
  const before = await readFile(knob, 'utf8');
  const r = await build(`FROM \${BASE}
RUN v=$(cat ${knob}); if (echo "$v" > ${knob}) 2>/dev/null; then echo KILN-WROTE-SYS; else echo KILN-SYS-RO; fi; \\
    if (echo h > /proc/sysrq-trigger) 2>/dev/null; then echo KILN-WROTE-SYSRQ; else echo KILN-SYSRQ-RO; fi; \\
    if mount -t tmpfs tmpfs /mnt 2>/dev/null; then echo KILN-MOUNTED; else echo KILN-MOUNT-REFUSED; fi; \\
    if mount --bind / /mnt 2>/dev/null; then echo KILN-BOUND; else echo KILN-BIND-REFUSED; fi; \\
    if unshare -U -r -m true 2>/dev/null; then echo KILN-USERNS; else echo KILN-USERNS-REFUSED; fi
`);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toContain('KILN-SYS-RO');
  expect(r.stdout).toContain('KILN-SYSRQ-RO');
  expect(r.stdout).toContain('KILN-MOUNT-REFUSED');
  expect(r.stdout).toContain('KILN-BIND-REFUSED');
  // A user namespace would hand the step a fresh set of capabilities (and mounts in it): seccomp denies it, as Docker's profile does.
  expect(r.stdout).toContain('KILN-USERNS-REFUSED');
  expect(await readFile(knob, 'utf8')).toBe(before);
});

/** Docker's default capability set (moby oci/caps/defaults.go) as /proc/self/status prints it. */
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';

test("capabilities, mounts and descriptors inside RUN are Docker's defaults", async () => {
  const r = await build(`FROM \${BASE}
RUN grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status | sed 's/^/KILN-CAP /'; \\
    sed 's/^/KILN-MNT /' /proc/self/mountinfo; \\
    ls /proc/self/fd | tr '\\n' ' ' | sed 's/^/KILN-FD /'; echo
USER 1000
RUN grep -E '^Cap(Eff|Bnd):' /proc/self/status | sed 's/^/KILN-APPCAP /'
`);
  expect(r.exitCode, r.stderr).toBe(0);
  const caps = Object.fromEntries([...r.stdout.matchAll(/^KILN-CAP (\w+):\s+(\w+)$/gm)].map((m) => [m[1], m[2]]));
  expect(caps).toEqual({
    CapInh: '0000000000000000',
    CapPrm: DOCKER_DEFAULT_CAPS,
    CapEff: DOCKER_DEFAULT_CAPS,
    CapBnd: DOCKER_DEFAULT_CAPS,
    CapAmb: '0000000000000000',
  });
  // A non-root user keeps the set only as its bounding set.
  const appCaps = Object.fromEntries([...r.stdout.matchAll(/^KILN-APPCAP (\w+):\s+(\w+)$/gm)].map((m) => [m[1], m[2]]));
  expect(appCaps).toEqual({ CapEff: '0000000000000000', CapBnd: DOCKER_DEFAULT_CAPS });

  // mountinfo: `id parent major:minor root mountpoint options - fstype source superoptions`
  const mounts = new Map<string, { options: string; fstype: string }>();
  for (const m of r.stdout.matchAll(/^KILN-MNT (.*)$/gm)) {
    const f = (m[1] ?? '').split(' ');
    const dash = f.indexOf('-');
    mounts.set(f[4] ?? '', { options: f[5] ?? '', fstype: f[dash + 1] ?? '' });
  }
  expect(mounts.get('/proc')?.fstype).toBe('proc');
  expect(mounts.get('/dev')?.fstype).toBe('tmpfs');
  expect(mounts.get('/dev/shm')?.fstype).toBe('tmpfs');
  expect(mounts.get('/dev/pts')?.fstype).toBe('devpts');
  // Read-only and masked where the kernel has the path at all (runc skips what does not exist).
  const onHost = (p: string): Promise<boolean> =>
    access(p).then(
      () => true,
      () => false,
    );
  for (const ro of ['/sys', '/proc/sys', '/proc/sysrq-trigger', '/proc/bus', '/proc/fs', '/proc/irq']) {
    if (await onHost(ro)) expect(mounts.get(ro)?.options.split(',') ?? [], ro).toContain('ro');
  }
  // Masked: covered by a bind of /dev/null or an empty read-only tmpfs.
  for (const masked of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/acpi', '/sys/firmware']) {
    if (await onHost(masked)) expect(mounts.has(masked), masked).toBe(true);
  }
  // The old root is detached: nothing of the host's mount table is visible under another path.
  expect([...mounts.keys()].filter((p) => p.startsWith('/proc/') === false && /\/(tmp|kiln|work)\b/.test(p))).toEqual(
    [],
  );
  // stdin, stdout, stderr and the descriptor `ls` opened for the directory, nothing of Kiln's.
  const fds = /^KILN-FD (.*)$/m.exec(r.stdout)?.[1]?.trim().split(' ').map(Number) ?? [];
  expect(
    fds.filter((fd) => fd > 3),
    `descriptors ${fds.join(' ')}`,
  ).toEqual([]);
});
