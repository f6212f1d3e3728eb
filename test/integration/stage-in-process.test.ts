/**
 * `runStage` in process (issue 12, item 9): one stage's instructions over a prepared rootfs, RUN
 * played by a scripted fake runner — the state each instruction leaves, the history, and what
 * RUN asks of the runner (user from the rootfs's /etc/passwd, environment, cwd, mounts, network).
 */
import { describe, expect, test } from 'vitest';
import { StepError } from '../../src/errors.js';
import type { ContainerConfig } from '../../src/oci/schemas.js';
import { FakeRunner } from '../support/fake-runner.js';
import { layerEntries, runStageInProcess } from '../support/in-process-build.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ROOTFS = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n',
  'etc/group': 'root:x:0:\napp:x:1001:\nstaff:x:50:\n',
};

describe('metadata instructions change the state and add no layer', () => {
  test.each<{ lines: string; config: ContainerConfig }>([
    { lines: 'ENV A=1\nENV B=$A-2 A=3', config: { Env: [DEFAULT_PATH, 'A=3', 'B=1-2'] } },
    { lines: 'ARG X=1\nENV Y=$X', config: { Env: [DEFAULT_PATH, 'Y=1'] } },
    { lines: 'ENV PATH=/opt/bin:$PATH', config: { Env: [`PATH=/opt/bin:${DEFAULT_PATH.slice(5)}`] } },
    { lines: 'CMD ["a"]\nENTRYPOINT ["b"]', config: { Cmd: ['a'], Entrypoint: ['b'] } },
    { lines: 'ENTRYPOINT b --flag', config: { Entrypoint: ['/bin/sh', '-c', 'b --flag'] } },
    {
      lines: 'SHELL ["/bin/bash", "-c"]\nCMD run',
      config: { Shell: ['/bin/bash', '-c'], Cmd: ['/bin/bash', '-c', 'run'] },
    },
    { lines: 'USER 1234:5678', config: { User: '1234:5678' } },
    { lines: 'WORKDIR /a\nWORKDIR b\nWORKDIR ../c', config: { WorkingDir: '/a/c' } },
    { lines: 'LABEL a=1 b="two words"\nLABEL a=3', config: { Labels: { a: '3', b: 'two words' } } },
    { lines: 'ONBUILD RUN make', config: { OnBuild: ['RUN make'] } },
  ])('$lines', async ({ lines, config }) => {
    const out = await runStageInProcess({ dockerfile: `FROM scratch\n${lines}` });
    expect(out.state.config).toMatchObject({ Env: [DEFAULT_PATH], ...config });
    const workdirs = lines.split('\n').filter((l) => l.startsWith('WORKDIR')).length;
    expect(out.layers).toHaveLength(workdirs); // WORKDIR makes its directory; nothing else writes
    expect(out.history.filter((h) => h.empty_layer)).toHaveLength(lines.split('\n').length - workdirs);
  });
});

describe('RUN', () => {
  test('runs as the USER the rootfs names, in the WORKDIR it makes, with ENV, ARGs and HOME', async () => {
    const runner = new FakeRunner({ build: (s) => s.write('out.txt', 'built') });
    const out = await runStageInProcess({
      runner,
      rootfs: ROOTFS,
      dockerfile:
        'FROM scratch\nARG MODE=fast\nENV LANG=C\nWORKDIR /src/app\nUSER app:staff\nRUN build\nUSER 4321\nRUN build',
    });
    expect(runner.specs.map((s) => [s.cwd, s.user])).toEqual([
      ['/src/app', { uid: 1000, gid: 50 }],
      ['/src/app', { uid: 4321, gid: 0 }],
    ]);
    expect(runner.spec(0).env).toEqual(['MODE=fast', DEFAULT_PATH, 'LANG=C', 'HOME=/home/app']);
    expect(runner.envOf(1).get('HOME')).toBe('/');
    // /dev, /proc and /sys are made for the step, and so are /etc's resolv.conf, hosts and hostname
    // the image lacks, for the host's to be bound on (issue 13): none of them reaches a layer.
    expect(runner.spec(0).mounts).toEqual({
      dev: true,
      proc: true,
      sys: true,
      resolvConf: true,
      hosts: true,
      hostname: true,
    });
    // WORKDIR's layer, then the RUN's: only what the command wrote, no mount point Kiln made.
    expect(out.layers).toHaveLength(3);
    expect((await layerEntries(out.layers[1]!)).map((e) => e.name)).toEqual(['src/', 'src/app/', 'src/app/out.txt']);
    // The second RUN rewrote out.txt with the same bytes: its mtime moved, which Docker, Kaniko
    // (whose full-mode hash includes the mtime) and Buildah all record in a layer (issue 13).
    expect(out.history.map((h) => h.empty_layer ?? false)).toEqual([true, true, false, true, false, true, false]);
    expect((await layerEntries(out.layers[2]!)).map((e) => e.name)).toEqual(['src/', 'src/app/', 'src/app/out.txt']);
    expect(out.state.config.Env).toEqual([DEFAULT_PATH, 'LANG=C']); // the ARG is not persisted
  });

  test('a heredoc runs its body through the shell, and --network=none reaches the runner', async () => {
    const runner = new FakeRunner({ 'echo one\necho two\n': () => 0, fetch: () => 0 });
    await runStageInProcess({
      runner,
      rootfs: ROOTFS,
      dockerfile: 'FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\nRUN --network=none fetch',
    });
    expect(runner.spec(0).argv).toEqual(['/bin/sh', '-c', 'echo one\necho two\n']);
    expect(runner.spec(1).network).toBe('none');
  });

  test('a tmpfs --mount reaches the runner as a host mount point, which never reaches a layer', async () => {
    const runner = new FakeRunner({ 'use-tmp': () => 0 });
    const out = await runStageInProcess({
      runner,
      rootfs: ROOTFS,
      dockerfile: 'FROM scratch\nRUN --mount=type=tmpfs,target=/scratch use-tmp',
    });
    expect(runner.spec(0).extra?.mounts).toEqual([
      { kind: 'tmpfs', target: expect.stringMatching(/\/rootfs\/scratch$/) },
    ]);
    expect(out.layers).toHaveLength(0);
  });

  test.each([
    {
      what: '--network=none',
      line: 'RUN --network=none fetch',
      message:
        /^Dockerfile:2: RUN --network=none needs a network namespace of its own, and this host allows only "chroot" isolation$/,
    },
    {
      what: '--mount',
      line: 'RUN --mount=type=tmpfs,target=/t fetch',
      message: /^Dockerfile:2: RUN --mount needs a private mount namespace/,
    },
  ])('in chroot isolation $what is refused before anything runs', async ({ line, message }) => {
    const runner = new FakeRunner({ fetch: () => 0 }, 'chroot');
    const err: unknown = await runStageInProcess({ runner, rootfs: ROOTFS, dockerfile: `FROM scratch\n${line}` }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(message);
    expect(runner.specs).toHaveLength(0);
  });

  test('a failing command in chroot isolation says what that mode lacks', async () => {
    const runner = new FakeRunner({ 'ls /proc': () => 1 }, 'chroot');
    const err: unknown = await runStageInProcess({
      runner,
      rootfs: ROOTFS,
      dockerfile: 'FROM scratch\nRUN ls /proc',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toBe('Dockerfile:2: RUN ls /proc: the command exited with status 1');
    expect((err as StepError).hint).toMatch(/^RUN ran in chroot isolation/);
    expect((err as StepError).hint).toMatch(/\/proc.*DNS/);
  });
});
