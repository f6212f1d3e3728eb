/**
 * Dockerfile semantics of issue 13 (items 8 and 9) through `buildStages` in process, with RUN
 * played by a fake runner, each checked against the rule of BuildKit or Kaniko its test names.
 * test/e2e/dockerfile-semantics.test.ts checks the same with the real executor and busybox.
 */
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FakeRunner } from '../support/fake-runner.js';
import { AS_ROOT, buildInProcess, layerEntries, layerNames, ownerIds } from '../support/in-process-build.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\napp:x:1000:\nstaff:x:50:\n';
const ETC = { 'etc/passwd': PASSWD, 'etc/group': GROUP };

/** `uid:gid` of a layer entry whose owner Kiln set to `uid:gid` (without root: the process's, see ownerIds). */
function ids(uid: number, gid: number): string {
  const o = ownerIds(uid, gid);
  return `${o.uid}:${o.gid}`;
}

/** The value of NAME in the environment of the build's last RUN (`show`); undefined when unset. */
async function shownName(dockerfile: string[], buildArg: string[] = []): Promise<string | undefined> {
  const runner = new FakeRunner({ show: () => 0 });
  await buildInProcess({ runner, context: ETC, options: { buildArg }, dockerfile: dockerfile.join('\n') });
  return runner.envOf(runner.specs.length - 1).get('NAME');
}

const ONE = ['FROM scratch AS one', 'COPY etc /etc', 'ARG NAME=base'];

describe('a stage built FROM an earlier stage inherits its ARGs (BuildKit dispatchState.init)', () => {
  test.each([
    { what: 'with their values', dockerfile: [...ONE, 'FROM one', 'RUN show'], name: 'base' },
    {
      what: 'through two stages',
      dockerfile: [...ONE, 'FROM one AS two', 'ARG OTHER=x', 'FROM two', 'RUN show'],
      name: 'base',
    },
    {
      what: 'a default that uses the inherited value extends it (Kaniko #1911)',
      dockerfile: [...ONE, 'FROM one', 'ARG NAME="$NAME-dev"', 'RUN show'],
      name: 'base-dev',
    },
    { what: 'a bare re-declaration keeps it', dockerfile: [...ONE, 'FROM one', 'ARG NAME', 'RUN show'], name: 'base' },
    {
      what: 'a bare re-declaration keeps a value declared earlier in the same stage',
      dockerfile: ['FROM scratch', 'COPY etc /etc', 'ARG NAME=first', 'ARG NAME', 'RUN show'],
      name: 'first',
    },
    {
      what: 'a bare re-declaration takes the global ARG of that name (dispatchArg)',
      dockerfile: ['ARG NAME=global', ...ONE, 'FROM one', 'ARG NAME', 'RUN show'],
      name: 'global',
    },
    {
      what: 'without a re-declaration the inherited value stands, not the global one',
      dockerfile: ['ARG NAME=global', ...ONE, 'FROM one', 'RUN show'],
      name: 'base',
    },
    {
      what: '--build-arg sets the base stage value, which the stage inherits',
      dockerfile: [...ONE, 'FROM one', 'RUN show'],
      buildArg: ['NAME=cli'],
      name: 'cli',
    },
    {
      what: '--build-arg wins over a re-declared default',
      dockerfile: [...ONE, 'FROM one', 'ARG NAME="$NAME-dev"', 'RUN show'],
      buildArg: ['NAME=cli'],
      name: 'cli',
    },
    {
      what: 'a stage FROM an image (scratch) inherits nothing',
      dockerfile: [...ONE, 'FROM scratch', 'COPY etc /etc', 'RUN show'],
      name: undefined,
    },
  ])('$what: NAME=$name', async ({ dockerfile, buildArg, name }) => {
    expect(await shownName(dockerfile, buildArg)).toBe(name);
  });

  test('inherited ARGs expand in the instructions of the stage, and stay out of its config', async () => {
    const { image } = await buildInProcess({
      context: ETC,
      dockerfile: [...ONE, 'FROM one', 'ENV SEEN=$NAME', 'WORKDIR /srv/$NAME'].join('\n'),
    });
    expect(image.config.config?.Env).toContain('SEEN=base');
    expect(image.config.config?.Env?.some((e) => e.startsWith('NAME='))).toBe(false);
    expect(image.config.config?.WorkingDir).toBe('/srv/base');
  });
});

describe('WORKDIR makes its directories for the USER (BuildKit Mkdir … WithUser)', () => {
  test.each([
    { user: 'app', owner: [1000, 1000] },
    { user: 'app:staff', owner: [1000, 50] },
    { user: '1000', owner: [1000, 1000] },
    { user: '2000', owner: [2000, 2000] }, // a uid no entry lists: uid:uid
    { user: '2000:3000', owner: [2000, 3000] },
    { user: 'ghost', owner: [0, 0] }, // a name the image does not list: root, with a warning
  ])('USER $user: the directories it creates belong to $owner; those that existed keep theirs', async (c) => {
    const [uid = 0, gid = 0] = c.owner;
    const outcome = await buildInProcess({
      context: { ...ETC, 'srv/keep': 'x' },
      dockerfile: ['FROM scratch', 'COPY . /', `USER ${c.user}`, 'WORKDIR /srv/app/data'].join('\n'),
    });
    const entries = await layerEntries(outcome.image.layers.at(-1)!);
    expect(entries.map((e) => [e.name, `${e.uid}:${e.gid}`])).toEqual([
      ['srv/', ids(0, 0)], // it existed (COPY made it): its owner stays
      ['srv/app/', ids(uid, gid)],
      ['srv/app/data/', ids(uid, gid)],
    ]);
    expect(entries.slice(1).map((e) => e.mode)).toEqual([0o755, 0o755]);
    if (!AS_ROOT) {
      expect(outcome.wantedOwner(0, '/srv/app')).toEqual({ uid, gid });
      expect(outcome.wantedOwner(0, '/srv/app/data')).toEqual({ uid, gid });
    }
    expect(outcome.logs.some((l) => l.startsWith('WARN WORKDIR /srv/app/data: user ghost not found'))).toBe(
      c.user === 'ghost',
    );
  });

  test('an id out of range in /etc/passwd is a Dockerfile error at the WORKDIR line', async () => {
    const err: unknown = await buildInProcess({
      context: { 'etc/passwd': 'evil:x:4294967296:0::/:/bin/sh\n' },
      dockerfile: 'FROM scratch\nCOPY etc /etc\nUSER evil\nWORKDIR /x',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3 });
    expect((err as Error).message).toMatch(/^Dockerfile:4: WORKDIR \/x: user evil has uid 4294967296/);
  });
});

describe('VOLUME makes a missing directory, which goes into the next layer (Kaniko)', () => {
  test('VOLUME /foo1 then RUN echo hello > /foo1/hello: the directory is root:root 0755 in the RUN layer', async () => {
    const runner = new FakeRunner({
      'echo hello > /foo1/hello': async (s) => {
        // As sh does it: the redirection fails where the directory is missing.
        if (!existsSync(s.host('/foo1'))) {
          s.print("sh: can't create /foo1/hello: nonexistent directory\n");
          return 2;
        }
        await s.write('/foo1/hello', 'hello\n');
      },
    });
    const { image } = await buildInProcess({
      runner,
      context: ETC,
      dockerfile: ['FROM scratch', 'COPY etc /etc', 'VOLUME /foo1', 'RUN echo hello > /foo1/hello'].join('\n'),
    });
    expect(Object.keys(image.config.config?.Volumes ?? {})).toEqual(['/foo1']);
    // As Kaniko records it: VOLUME itself adds no layer; the RUN's layer has the directory.
    expect((image.config.history ?? []).map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['COPY etc /etc # buildkit', false],
      ['VOLUME [/foo1]', true],
      ['RUN /bin/sh -c echo hello > /foo1/hello # buildkit', false],
    ]);
    const entries = await layerEntries(image.layers[1]!);
    expect(entries.map((e) => [e.name, e.type, e.mode.toString(8), `${e.uid}:${e.gid}`])).toEqual([
      ['foo1/', 'directory', '755', ids(0, 0)],
      ['foo1/hello', 'file', '644', ids(0, 0)],
    ]);
  });

  test('the directories go into the next step that has changes of its own; existing paths are left alone', async () => {
    const { image } = await buildInProcess({
      context: { ...ETC, 'f.txt': 'f\n' },
      dockerfile: [
        'FROM scratch',
        'COPY etc /etc',
        'VOLUME /data/deep /etc /etc/passwd',
        'ENV A=1',
        'WORKDIR /etc',
        'COPY f.txt /f.txt',
        'VOLUME ["/logs"]',
      ].join('\n'),
    });
    expect(Object.keys(image.config.config?.Volumes ?? {}).sort()).toEqual([
      '/data/deep',
      '/etc',
      '/etc/passwd',
      '/logs',
    ]);
    // WORKDIR /etc changed nothing: the COPY after it carries the volume's directories.
    expect(image.layers).toHaveLength(2);
    expect(await layerNames(image, 1)).toEqual(['data/', 'data/deep/', 'f.txt']);
    // A VOLUME last in the stage is in the config only: no later step took a snapshot (Kaniko).
    expect(image.config.history?.at(-1)).toEqual(expect.objectContaining({ empty_layer: true }));
  });

  test('with --single-snapshot the directory is in the one layer', async () => {
    const { image } = await buildInProcess({
      context: ETC,
      options: { singleSnapshot: true },
      dockerfile: ['FROM scratch', 'COPY etc /etc', 'VOLUME /foo1'].join('\n'),
    });
    expect(await layerNames(image, 0)).toEqual(['etc/', 'etc/group', 'etc/passwd', 'foo1/']);
  });
});
