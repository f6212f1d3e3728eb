/**
 * The OCI runtime spec (runtime-spec 1.0, `config.json`) of one RUN step in "namespaces"
 * isolation, as Docker and BuildKit give a build step (ARCHITECTURE.md §4): new mount, pid, ipc and uts
 * namespaces (a network namespace with only loopback for `--network=none`), `pivot_root` into the
 * rootfs with the old root detached (runc's default), Docker's default capability set with the
 * bounding set cut to it, Docker's masked and read-only `/proc` paths, a private `/dev` with the
 * standard nodes, `/dev/shm`, `/dev/pts`, a fresh `/proc`, a read-only `/sys`, and private copies of
 * the host's `resolv.conf`, `hosts` and `hostname` (as Docker binds them). The device cgroup allows only the standard nodes, so a
 * node a step makes for a host disk cannot be opened, and a seccomp filter denies what Docker's
 * default profile denies a container without extra capabilities. Pure: every host fact comes in
 * as an argument.
 */
import { posix } from 'node:path';
import type { RunSpec } from './runner.js';

/**
 * Docker's default capabilities (moby `oci/caps/defaults.go`), which BuildKit gives RUN too.
 * Everything else — SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN… —
 * is dropped from every set, the bounding set included.
 */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
] as const;

/** Docker's masked paths (moby `oci/defaults.go`): hidden behind /dev/null or an empty read-only tmpfs. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
] as const;

/** Docker's read-only paths: the kernel's knobs, readable but not writable even by root in the step. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

/**
 * Syscalls a step may not make, whatever its capabilities (the deny side of Docker's default
 * seccomp profile, for a container without CAP_SYS_ADMIN, SYS_MODULE, SYS_PTRACE…): kernel
 * modules and kexec, mounts and pivot_root, namespaces (a user namespace would hand the step a new
 * set of capabilities), keyrings, bpf, perf, userfaultfd, handles that bypass path checks, clock
 * and swap. Everything else is allowed, so images keep working as under Docker.
 */
export const DENIED_SYSCALLS = [
  'acct',
  'add_key',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'fanotify_init',
  'finit_module',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'get_kernel_syms',
  'init_module',
  'ioperm',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mount',
  'mount_setattr',
  'move_mount',
  'name_to_handle_at',
  'nfsservctl',
  'open_by_handle_at',
  'open_tree',
  'perf_event_open',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'query_module',
  'quotactl',
  'reboot',
  'request_key',
  'setns',
  'settimeofday',
  'stime',
  'swapoff',
  'swapon',
  'sysfs',
  '_sysctl',
  'umount',
  'umount2',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vm86',
  'vm86old',
] as const;

/** clone(2) flags that make namespaces: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const NAMESPACE_CLONE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

const EPERM = 1;

/** The step's seccomp filter: allow by default, deny {@link DENIED_SYSCALLS} and namespace-making clones. */
function seccomp(): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      // One rule per flag: rules of one syscall are OR-ed, the arguments of one rule AND-ed.
      ...NAMESPACE_CLONE_FLAGS.map((flag) => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
      // clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes libc fall back to clone (as Docker does).
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
}

/** One entry of the spec's `mounts`. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** What the spec needs besides the step: facts of the host and files the runner prepared. */
export interface SpecHost {
  /** The hostname the step sees (the host's or pod's, as Kaniko's RUN sees it). */
  hostname: string;
  /** Private copies of the host's /etc/resolv.conf and /etc/hosts, and a file naming `hostname`, bound writable; writes are discarded. */
  resolvConf?: string;
  hosts?: string;
  hostnameFile?: string;
  /** For each `overlay` mount of `spec.extra`, in order: its upper and work directories on a non-overlay filesystem, or a private copy of the source to bind instead. */
  overlays: ({ upper: string; work: string } | { copy: string })[];
}

/** The image path of a host path inside `rootfs` (mount targets are prepared free of symlinks). */
function inRootfs(rootfs: string, host: string): string {
  const rel = posix.relative(rootfs, host);
  if (rel.startsWith('..') || posix.isAbsolute(rel))
    throw new Error(`mount target ${host} is outside the rootfs ${rootfs}`);
  return `/${rel}`;
}

/** The standard mounts of a step, those the rootfs has a place for (`spec.mounts`). */
function standardMounts(spec: RunSpec, host: SpecHost): OciMount[] {
  const m = spec.mounts;
  const out: OciMount[] = [];
  if (m.proc) out.push({ destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
  if (m.dev) {
    out.push(
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    );
  }
  if (m.sys) {
    // A fresh sysfs needs a network namespace of its own; with the host's network, Docker binds it.
    out.push(
      spec.network === 'none'
        ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] }
        : { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
    );
  }
  const etcFiles = [
    [m.resolvConf, host.resolvConf, '/etc/resolv.conf'],
    [m.hosts, host.hosts, '/etc/hosts'],
    [m.hostname, host.hostnameFile, '/etc/hostname'],
  ] as const;
  for (const [ready, source, destination] of etcFiles)
    if (ready && source)
      out.push({ destination, type: 'bind', source, options: ['bind', 'nosuid', 'nodev', 'noexec'] });
  if (m.dev && spec.extra?.pipes)
    out.push({
      destination: '/dev/pipes',
      type: 'bind',
      source: spec.extra.pipes,
      options: ['bind', 'ro', 'nosuid', 'nodev'],
    });
  return out;
}

/** The step's `RUN --mount`s, in order (parents before children, as the caller sorted them). */
function runMounts(spec: RunSpec, host: SpecHost): OciMount[] {
  const out: OciMount[] = [];
  let overlay = 0;
  for (const m of spec.extra?.mounts ?? []) {
    const destination = inRootfs(spec.rootfs, m.target);
    switch (m.kind) {
      case 'bind':
        out.push({
          destination,
          type: 'bind',
          source: m.source,
          options: ['rbind', m.readonly ? 'ro' : 'rw', 'nosuid', 'nodev'],
        });
        break;
      case 'tmpfs':
        out.push({
          destination,
          type: 'tmpfs',
          source: 'tmpfs',
          options: [
            'nosuid',
            'nodev',
            'mode=1777',
            ...(m.sizeBytes === undefined ? [] : [`size=${Math.trunc(m.sizeBytes)}`]),
          ],
        });
        break;
      case 'overlay': {
        const o = host.overlays[overlay++];
        if (!o) throw new Error('an overlay RUN --mount has no upper directory');
        out.push(
          'copy' in o
            ? { destination, type: 'bind', source: o.copy, options: ['rbind', 'rw', 'nosuid', 'nodev'] }
            : {
                destination,
                type: 'overlay',
                source: 'overlay',
                options: [`lowerdir=${m.source}`, `upperdir=${o.upper}`, `workdir=${o.work}`],
              },
        );
        break;
      }
    }
  }
  return out;
}

/** The `config.json` of one step. */
export function ociSpec(spec: RunSpec, host: SpecHost): Record<string, unknown> {
  const root = spec.user.uid === 0;
  const caps = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: spec.user.uid, gid: spec.user.gid },
      args: spec.argv,
      env: spec.env,
      cwd: spec.cwd,
      // A non-root step keeps the default set only as its bounding set (as Docker does): it can
      // regain them through a setuid binary or file capabilities, never more.
      capabilities: {
        bounding: caps,
        effective: root ? caps : [],
        permitted: root ? caps : [],
        inheritable: [],
        ambient: [],
      },
      // Docker allows setuid binaries (sudo, su) in RUN; noNewPrivileges would break them.
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname: host.hostname,
    mounts: [...standardMounts(spec, host), ...runMounts(spec, host)],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'mount' },
        { type: 'ipc' },
        { type: 'uts' },
        ...(spec.network === 'none' ? [{ type: 'network' }] : []),
      ],
      // Deny every device but the standard nodes, which runc allows itself: a node made for the
      // host's disk (CAP_MKNOD is in the default set) cannot be opened.
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      rootfsPropagation: 'private',
      seccomp: seccomp(),
    },
  };
}
