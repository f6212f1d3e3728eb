/** The metadata instruction family end to end: every config field a Dockerfile can set, and history. */
import { expect, onTestFinished, test } from 'vitest';
import { fixture, runExecutor } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

test('ENV, ARG, LABEL, EXPOSE, VOLUME, STOPSIGNAL, SHELL, WORKDIR, USER, CMD, MAINTAINER set the config as Docker does', async () => {
  const dest = `${env.reg.host}/e2e/metadata:1`;
  const r = await runExecutor([
    '--context',
    fixture('metadata'),
    '--destination',
    dest,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
    '--build-arg',
    'VERSION=9.8.7-argvalue',
    '--label',
    'from.cli=yes',
    '--build-arg',
    'NOBODY_USES=secret-value',
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  // An unused build arg is named in a warning; its value is never logged.
  expect(r.stderr).toMatch(/build arg NOBODY_USES was not consumed/);
  expect(r.stderr + r.stdout).not.toContain('secret-value');
  const image = await inspectImage({ registry: dest });
  onTestFinished(() => image.cleanup());
  const raw = image.config as unknown as { author?: string; config: Record<string, unknown> };
  const cfg = raw.config;
  expect(raw.author).toBe('Jane Doe <jane@example.com>');
  expect(cfg.Env).toEqual([
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'APP_HOME=/srv/app',
    'VERSION_SEEN=9.8.7-argvalue',
    'LEGACY=value with spaces',
  ]);
  expect(cfg.Labels).toEqual({
    'org.opencontainers.image.version': '9.8.7-argvalue',
    'com.example.quoted key': 'a b',
    'from.cli': 'yes',
  });
  expect(Object.keys(cfg.ExposedPorts as object).sort()).toEqual(['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  expect(Object.keys(cfg.Volumes as object).sort()).toEqual(['/cache', '/data', '/logs']);
  expect(cfg.StopSignal).toBe('SIGQUIT');
  expect(cfg.Shell).toEqual(['/bin/sh', '-ec']);
  expect(cfg.WorkingDir).toBe('/srv/app/sub');
  expect(cfg.User).toBe('app:app');
  expect(cfg.Cmd).toEqual(['serve', '--port', '80']);
  // SHELL applies to later shell-form RUNs; WORKDIR was created and used.
  expect(await image.readFile('/srv/app/sub/shell.txt')).toBe('shell is strict\n');
  const history = (image.config.history ?? []).slice(-16);
  expect(history.map((h) => h.created_by)).toContain('RUN /bin/sh -ec echo "shell is strict" > shell.txt # buildkit');
  // Build arg values never reach the history.
  expect(JSON.stringify(image.config.history)).not.toContain('argvalue');
});
