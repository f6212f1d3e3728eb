/**
 * `buildStages` in process (issue 12, item 9): the Dockerfile semantics the e2e tests check by
 * spawning `bin/executor` — config, history, layers and their whiteouts, multi-stage builds,
 * `--target`, build args, errors with their Dockerfile line — on temporary directories, with RUN
 * played by a scripted fake runner. No registry, no runc, no busybox.
 */
import { describe, expect, test } from 'vitest';
import { StepError } from '../../src/errors.js';
import { imageDigest } from '../../src/oci/image.js';
import { FakeRunner } from '../support/fake-runner.js';
import { AS_ROOT, buildInProcess, layerEntries, layerNames, ownerIds } from '../support/in-process-build.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\napp:x:1000:\n';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `uid:gid` of a layer entry whose owner Kiln set to `uid:gid` (without root: the process's, see ownerIds). */
function ids(uid: number, gid: number): string {
  const o = ownerIds(uid, gid);
  return `${o.uid}:${o.gid}`;
}

describe('a single stage', () => {
  test('config, files, layers and history are what the Dockerfile asks for (the e2e hello build)', async () => {
    const runner = new FakeRunner({
      'echo hello > /hello.txt': (s) => s.write('/hello.txt', 'hello\n'),
      'pwd > where.txt && echo "$APP_ENV" >> where.txt': (s) =>
        s.write('where.txt', `${s.spec.cwd}\n${s.getenv('APP_ENV')}\n`),
      'id -u > /home/app/whoami': (s) => s.write('/home/app/whoami', `${s.spec.user.uid}\n`),
    });
    const { image } = await buildInProcess({
      runner,
      context: {
        'etc/passwd': PASSWD,
        'etc/group': GROUP,
        'greeting.txt': 'greetings\n',
        'files/a.txt': 'alpha\n',
        'files/bin/tool.sh': { content: '#!/bin/sh\n', mode: 0o755 },
        'files/sub/deep/b.txt': { content: 'b\n', mode: 0o600 },
      },
      dockerfile: [
        'FROM scratch',
        'COPY etc/ /etc/',
        'RUN echo hello > /hello.txt',
        'COPY greeting.txt /greeting.txt',
        'COPY files/ /opt/files/',
        'ENV APP_ENV=production GREETING="hi there"',
        'WORKDIR /work',
        'RUN ["/bin/sh", "-c", "pwd > where.txt && echo \\"$APP_ENV\\" >> where.txt"]',
        'USER app',
        'RUN id -u > /home/app/whoami',
        'LABEL org.example.stage="e2e"',
        'EXPOSE 8080',
        'ENTRYPOINT ["/bin/sh", "-c", "cat /hello.txt"]',
      ].join('\n'),
    });
    const cfg = image.config.config ?? {};
    expect(cfg.Env).toEqual([DEFAULT_PATH, 'APP_ENV=production', 'GREETING=hi there']);
    expect(cfg.WorkingDir).toBe('/work');
    expect(cfg.User).toBe('app');
    expect(cfg.Entrypoint).toEqual(['/bin/sh', '-c', 'cat /hello.txt']);
    expect(cfg.Cmd ?? null).toBeNull();
    expect(cfg.Labels).toEqual({ 'org.example.stage': 'e2e' });
    expect(Object.keys(cfg.ExposedPorts ?? {})).toEqual(['8080/tcp']);

    // One history entry per instruction; COPY, RUN, COPY, COPY, WORKDIR, RUN, RUN add layers.
    const history = image.config.history ?? [];
    expect(history.map((h) => h.created_by?.split(' ')[0])).toEqual([
      'COPY',
      'RUN',
      'COPY',
      'COPY',
      'ENV',
      'WORKDIR',
      'RUN',
      'USER',
      'RUN',
      'LABEL',
      'EXPOSE',
      'ENTRYPOINT',
    ]);
    expect(history.map((h) => h.empty_layer === true)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
      true,
      true,
      true,
    ]);
    expect(history[1]?.created_by).toBe('RUN /bin/sh -c echo hello > /hello.txt # buildkit');
    expect(image.layers).toHaveLength(7);
    expect(image.config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));

    expect(await layerEntries(image.layers[1]!)).toEqual([
      expect.objectContaining({ name: 'hello.txt', type: 'file', mode: 0o644, ...ownerIds(0, 0), content: 'hello\n' }),
    ]);
    const files = await layerEntries(image.layers[3]!);
    expect(files.map((e) => [e.name, e.type, e.mode.toString(8), `${e.uid}:${e.gid}`])).toEqual([
      ['opt/', 'directory', '755', ids(0, 0)],
      ['opt/files/', 'directory', '755', ids(0, 0)],
      ['opt/files/a.txt', 'file', '644', ids(0, 0)],
      ['opt/files/bin/', 'directory', '755', ids(0, 0)],
      ['opt/files/bin/tool.sh', 'file', '755', ids(0, 0)],
      ['opt/files/sub/', 'directory', '755', ids(0, 0)],
      ['opt/files/sub/deep/', 'directory', '755', ids(0, 0)],
      ['opt/files/sub/deep/b.txt', 'file', '600', ids(0, 0)],
    ]);
    expect(await layerNames(image, 4)).toEqual(['work/']);
    // The directory a RUN wrote into is in its layer too (its mtime changed), as with Docker.
    expect(await layerEntries(image.layers[5]!)).toEqual([
      expect.objectContaining({ name: 'work/' }),
      expect.objectContaining({ name: 'work/where.txt', content: '/work\nproduction\n' }),
    ]);
    // The mount points Kiln made for RUN (/dev, /proc, /sys…) reach no layer.
    expect(await layerNames(image, 6)).toEqual(['home/', 'home/app/', 'home/app/whoami']);

    // What RUN was asked: WORKDIR as cwd, ENV in the environment, USER from the COPYed /etc/passwd.
    expect(runner.specs.map((s) => [s.argv, s.cwd, s.user])).toEqual([
      [['/bin/sh', '-c', 'echo hello > /hello.txt'], '/', { uid: 0, gid: 0 }],
      [['/bin/sh', '-c', 'pwd > where.txt && echo "$APP_ENV" >> where.txt'], '/work', { uid: 0, gid: 0 }],
      [['/bin/sh', '-c', 'id -u > /home/app/whoami'], '/work', { uid: 1000, gid: 1000 }],
    ]);
    expect(runner.spec(2).env).toEqual([DEFAULT_PATH, 'APP_ENV=production', 'GREETING=hi there', 'HOME=/home/app']);
    expect(runner.spec(0).network).toBeUndefined();
  });

  test('ENV, ARG, LABEL, EXPOSE, VOLUME, STOPSIGNAL, SHELL, WORKDIR, USER, CMD, MAINTAINER set the config as Docker does', async () => {
    const runner = new FakeRunner({
      'echo "shell is strict" > shell.txt': (s) => s.write('shell.txt', 'shell is strict\n'),
    });
    const { image } = await buildInProcess({
      runner,
      options: { buildArg: ['VERSION=9.8.7-argvalue'], label: ['from.cli=yes'] },
      context: { 'etc/passwd': PASSWD },
      dockerfile: [
        'FROM scratch',
        'COPY etc /etc',
        'MAINTAINER Jane Doe <jane@example.com>',
        'ARG VERSION=1.0',
        'ARG EMPTY',
        'ENV APP_HOME=/srv/app VERSION_SEEN=$VERSION',
        'ENV LEGACY value with spaces',
        'LABEL org.opencontainers.image.version=$VERSION "com.example.quoted key"="a b"',
        'EXPOSE 80 53/udp 8000-8001',
        'VOLUME ["/data"]',
        'VOLUME /logs /cache',
        'STOPSIGNAL SIGQUIT',
        'SHELL ["/bin/sh", "-ec"]',
        'WORKDIR $APP_HOME',
        'WORKDIR sub',
        'RUN echo "shell is strict" > shell.txt',
        'USER app:app',
        'CMD ["serve", "--port", "80"]',
      ].join('\n'),
    });
    const cfg = image.config.config ?? {};
    expect(image.config.author).toBe('Jane Doe <jane@example.com>');
    expect(cfg.Env).toEqual([
      DEFAULT_PATH,
      'APP_HOME=/srv/app',
      'VERSION_SEEN=9.8.7-argvalue',
      'LEGACY=value with spaces',
    ]);
    expect(cfg.Labels).toEqual({
      'org.opencontainers.image.version': '9.8.7-argvalue',
      'com.example.quoted key': 'a b',
      'from.cli': 'yes',
    });
    expect(Object.keys(cfg.ExposedPorts ?? {}).sort()).toEqual(['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
    expect(Object.keys(cfg.Volumes ?? {}).sort()).toEqual(['/cache', '/data', '/logs']);
    expect(cfg.StopSignal).toBe('SIGQUIT');
    expect(cfg.Shell).toEqual(['/bin/sh', '-ec']);
    expect(cfg.WorkingDir).toBe('/srv/app/sub');
    expect(cfg.User).toBe('app:app');
    expect(cfg.Cmd).toEqual(['serve', '--port', '80']);
    // SHELL applies to the shell-form RUN, in the WORKDIR it made; the ARG reaches RUN's
    // environment (a valueless one does not) but neither the config nor the history.
    expect(runner.spec(0).argv).toEqual(['/bin/sh', '-ec', 'echo "shell is strict" > shell.txt']);
    expect(runner.spec(0).cwd).toBe('/srv/app/sub');
    expect(runner.envOf(0).get('VERSION')).toBe('9.8.7-argvalue');
    expect(runner.envOf(0).has('EMPTY')).toBe(false);
    expect((await layerEntries(image.layers.at(-1)!)).map((e) => e.name)).toEqual([
      'srv/',
      'srv/app/',
      'srv/app/sub/',
      'srv/app/sub/shell.txt',
    ]);
    expect((image.config.history ?? []).map((h) => h.created_by)).toContain(
      'RUN /bin/sh -ec echo "shell is strict" > shell.txt # buildkit',
    );
    expect(JSON.stringify(image.config.history)).not.toContain('argvalue');
  });

  test('what a RUN deleted becomes whiteouts of the top-most deleted path; a RUN that changed nothing adds no layer', async () => {
    const runner = new FakeRunner({
      'rm /data/b && rm -r /data/sub': async (s) => {
        await s.remove('/data/b');
        await s.remove('/data/sub');
      },
      true: () => 0,
    });
    const { image } = await buildInProcess({
      runner,
      context: { 'data/a': 'a', 'data/b': 'b', 'data/sub/c': 'c', 'data/sub/deeper/d': 'd', 'etc/passwd': PASSWD },
      dockerfile: 'FROM scratch\nCOPY . /\nRUN rm /data/b && rm -r /data/sub\nRUN true',
    });
    expect(image.layers).toHaveLength(2);
    expect(await layerNames(image, 1)).toEqual(['data/', 'data/.wh.b', 'data/.wh.sub']);
    expect((image.config.history ?? []).map((h) => h.empty_layer ?? false)).toEqual([false, false, true]);
  });

  test('--reproducible: two builds of the same inputs have the same digest', async () => {
    const build = async (): Promise<string> => {
      const runner = new FakeRunner({ make: (s) => s.write('/out/bin', 'binary') });
      const { image } = await buildInProcess({
        runner,
        options: { reproducible: true },
        context: { 'src.c': 'int main;', 'etc/passwd': PASSWD },
        dockerfile: 'FROM scratch\nCOPY etc /etc\nCOPY src.c /src/\nRUN make',
      });
      return imageDigest(image);
    };
    expect(await build()).toBe(await build());
  });
});

const MULTI = [
  'FROM scratch AS builder',
  'COPY etc/ /etc/',
  'ARG TARGETARCH',
  'ENV BUILDER=1',
  'RUN build',
  '',
  'FROM scratch AS unused',
  'COPY etc/ /etc/',
  'RUN echo unused > /unused',
  '',
  'FROM builder AS extended',
  'RUN extend',
  '',
  'FROM scratch',
  'COPY --from=builder /out/artifact /artifact',
  'COPY --from=0 /etc/passwd /etc/',
  'COPY --from=Extended --chown=2:3 /out /copied/',
  'ENTRYPOINT ["/artifact"]',
].join('\n');

function multiRunner(): FakeRunner {
  return new FakeRunner({
    build: (s) => s.write('/out/artifact', `built for ${s.getenv('TARGETARCH')}\n`, 0o755),
    'echo unused > /unused': (s) => s.write('/unused', 'unused\n'),
    extend: (s) => s.write('/out/extra', 'extra\n'),
  });
}

describe('several stages', () => {
  test('the final stage copies from earlier stages by name and index; FROM an earlier stage starts from its image', async () => {
    const runner = multiRunner();
    const outcome = await buildInProcess({ runner, context: { 'etc/passwd': PASSWD }, dockerfile: MULTI });
    const { image, logs } = outcome;
    expect(logs).toContain('INFO building stage 1 (unused) FROM scratch'); // Kaniko builds every stage by default
    expect(logs).toContain('INFO building stage 2 (extended) FROM stage 0');
    expect(image.layers).toHaveLength(3); // FROM scratch: only the three COPY layers
    expect(await layerEntries(image.layers[0]!)).toEqual([
      expect.objectContaining({ name: 'artifact', mode: 0o755, ...ownerIds(0, 0), content: 'built for amd64\n' }),
    ]);
    expect(await layerNames(image, 1)).toEqual(['etc/', 'etc/passwd']);
    const copied = await layerEntries(image.layers[2]!);
    expect(copied.map((e) => [e.name, `${e.uid}:${e.gid}`])).toEqual([
      ['copied/', ids(2, 3)],
      ['copied/artifact', ids(2, 3)],
      ['copied/extra', ids(2, 3)],
    ]);
    // Without root the layers show the process's owner: what Kiln asked for is in the record.
    if (!AS_ROOT) expect(outcome.wantedOwner(3, '/copied/artifact')).toEqual({ uid: 2, gid: 3 });
    expect(image.config.config?.Entrypoint).toEqual(['/artifact']);
    expect(image.config.config?.Env).toEqual([DEFAULT_PATH]); // nothing of the builder's config
    // The extended stage ran on the builder's rootfs, with its ENV.
    const extend = runner.specs.findIndex((s) => s.argv[2] === 'extend');
    expect(runner.envOf(extend).get('BUILDER')).toBe('1');
  });

  test('--target builds an intermediate stage as the image, and nothing after it', async () => {
    const runner = multiRunner();
    const { image, logs } = await buildInProcess({
      runner,
      options: { target: 'extended', skipUnusedStages: true },
      context: { 'etc/passwd': PASSWD },
      dockerfile: MULTI,
    });
    expect(logs.filter((l) => l.startsWith('INFO building stage'))).toEqual([
      'INFO building stage 0 (builder) FROM scratch',
      'INFO building stage 2 (extended) FROM stage 0',
    ]);
    expect(runner.specs.map((s) => s.argv[2])).toEqual(['build', 'extend']);
    expect(image.layers).toHaveLength(3); // the builder's COPY and RUN, then extend's RUN
    expect(await layerNames(image, 2)).toEqual(['out/', 'out/extra']);
    expect(image.config.config?.Env).toEqual([DEFAULT_PATH, 'BUILDER=1']);
    expect(image.config.history).toHaveLength(5);
  });
});

describe('errors name the Dockerfile line', () => {
  test.each([
    {
      what: 'a missing COPY source',
      dockerfile: 'FROM scratch\nENV A=1\nCOPY nope.txt /x',
      message: /^Dockerfile:3: .*nope\.txt/,
      exitCode: 6,
    },
    {
      what: 'a RUN that exits non-zero',
      dockerfile: 'FROM scratch\nCOPY etc /etc\nRUN fail',
      message: /^Dockerfile:3: RUN fail: the command exited with status 3\n--- last output ---\nit broke/,
      exitCode: 3,
    },
    {
      what: 'a RUN nobody scripted',
      dockerfile: 'FROM scratch\nCOPY etc /etc\n\nRUN unknown',
      message: /^Dockerfile:4: RUN unknown: the command exited with status 127/,
      exitCode: 127,
    },
    {
      what: 'a USER without a passwd entry',
      dockerfile: 'FROM scratch\nCOPY etc /etc\nUSER ghost\nRUN fail',
      message: /^Dockerfile:4: RUN fail: unable to find user ghost/,
      exitCode: 6,
    },
    {
      what: 'a failing stage among several',
      dockerfile: 'FROM scratch AS a\nCOPY etc /etc\nRUN fail\nFROM scratch\nCOPY --from=a /x /x',
      message: /^Dockerfile:3: RUN fail/,
      exitCode: 3,
    },
    // A RUN that exits non-zero exits with its own status, as Kaniko does (issue 13 item 8; this
    // was exit 6); every other step failure keeps exit 6.
  ])('$what is a StepError (exit $exitCode)', async ({ dockerfile, message, exitCode }) => {
    const runner = new FakeRunner({
      fail: (s) => {
        s.print('it broke\n');
        return 3;
      },
    });
    const err: unknown = await buildInProcess({ runner, dockerfile, context: { 'etc/passwd': PASSWD } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).exitCode).toBe(exitCode);
    expect((err as StepError).message).toMatch(message);
  });
});
