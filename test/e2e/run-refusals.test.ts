/**
 * RUN syntax Kiln refuses, with `Dockerfile:LINE` and exit 3, and what needs namespaces when the
 * host allows only chroot (simulated by dropping CAP_SYS_ADMIN with capsh).
 */
import { expect, test } from 'vitest';
import { fixture, runExecutor, WITHOUT_SYS_ADMIN, type ExecutorResult } from '../support/executor.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

const build = (dockerfile: string): Promise<ExecutorResult> =>
  runExecutor([
    '--context',
    fixture('run-refusals'),
    '--dockerfile',
    dockerfile,
    '--no-push',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);

test.concurrent.for([
  [
    'security-insecure.Dockerfile',
    /^error: security-insecure\.Dockerfile:3: RUN --security=insecure is not supported/m,
  ],
  [
    'mount-ssh.Dockerfile',
    /^error: mount-ssh\.Dockerfile:3: RUN --mount=type=ssh: SSH agent mounts are not supported/m,
  ],
  [
    'mount-bad-sharing.Dockerfile',
    /^error: mount-bad-sharing\.Dockerfile:4: RUN --mount=type=cache,target=\/c,sharing=sometimes: unsupported sharing value "sometimes"/m,
  ],
  [
    'network-bridge.Dockerfile',
    /^error: network-bridge\.Dockerfile:3: unsupported network mode "bridge" for RUN --network/m,
  ],
] as const)('%s exits 3 at its line', async ([dockerfile, message], { expect }) => {
  const r = await build(dockerfile);
  expect(r.exitCode, r.stderr).toBe(3);
  expect(r.stderr).toMatch(message);
});

/** The executor without CAP_SYS_ADMIN, as in a container with default capabilities: only chroot isolation works. */
const runWithoutSysAdmin = (args: string[]): Promise<ExecutorResult> =>
  runExecutor(args, { prefix: WITHOUT_SYS_ADMIN });

test('in chroot-only mode a #! heredoc still runs, but RUN --mount and --network=none fail naming the mode', async () => {
  const common = [
    '--context',
    fixture('run-refusals'),
    '--no-push',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ];
  const [mount, network] = await Promise.all([
    runWithoutSysAdmin([...common, '--dockerfile', 'chroot-mount.Dockerfile']),
    runWithoutSysAdmin([...common, '--dockerfile', 'chroot-network.Dockerfile']),
  ]);
  expect(mount.stderr).toContain('RUN isolation: chroot');
  expect(mount.stdout).toContain('heredoc ran in chroot mode');
  expect(mount.exitCode, mount.stderr).toBe(6);
  expect(mount.stderr).toMatch(
    /^error: chroot-mount\.Dockerfile:7: RUN --mount needs a private mount namespace, and this host allows only "chroot" isolation/m,
  );
  expect(mount.stderr).toMatch(/CAP_SYS_ADMIN/);
  expect(network.exitCode, network.stderr).toBe(6);
  expect(network.stderr).toMatch(
    /^error: chroot-network\.Dockerfile:3: RUN --network=none needs a network namespace of its own, and this host allows only "chroot" isolation/m,
  );
});
