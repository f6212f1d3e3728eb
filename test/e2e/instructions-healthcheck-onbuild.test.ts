/**
 * HEALTHCHECK and ONBUILD end to end: the config fields as Docker stores them, a base image's
 * triggers (and an earlier stage's) running first in the child and then leaving its config, the
 * history entries, and the refused forms with `Dockerfile:LINE` and exit 3.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectImage, type InspectedImage } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const S = 1_000_000_000;

/** A context directory holding `lines` as its Dockerfile. */
async function context(lines: string[]): Promise<string> {
  const dir = await tempDir('ctx');
  await writeFile(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
  return dir;
}

async function inspected(
  ref: string,
): Promise<{ image: InspectedImage; cfg: Record<string, unknown>; history: (string | undefined)[] }> {
  const image = await inspectImage({ registry: ref });
  onTestFinished(() => image.cleanup());
  const cfg = (image.config as unknown as { config: Record<string, unknown> }).config;
  return { image, cfg, history: (image.config.history ?? []).map((h) => h.created_by) };
}

const PARENT = [
  'ARG BASE',
  'FROM ${BASE}',
  'HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=2s --retries=3 CMD wget -q -O- http://127.0.0.1/ || exit 1',
  'ONBUILD RUN echo "triggered in $(pwd)" > /onbuild.txt',
  'ONBUILD ENV TRIGGERED=yes',
  'ONBUILD RUN <<DOC',
  'echo heredoc trigger > /onbuild-heredoc.txt',
  'DOC',
];

const CHILD = [
  'ARG PARENT',
  'FROM ${PARENT} AS child',
  'ONBUILD RUN echo stage trigger > /stage-trigger.txt',
  'FROM child',
  'HEALTHCHECK NONE',
  'CMD ["true"]',
];

test('HEALTHCHECK sets Healthcheck in ns; ONBUILD triggers run first in the child and are cleared', async () => {
  const parent = `${env.reg.host}/e2e/onbuild-parent:1`;
  const p = await runExecutor([
    '--context',
    await context(PARENT),
    '--destination',
    parent,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${env.base.ref}`,
  ]);
  expect(p.exitCode, p.stderr).toBe(0);
  const up = await inspected(parent);
  expect(up.cfg.Healthcheck).toEqual({
    Test: ['CMD-SHELL', 'wget -q -O- http://127.0.0.1/ || exit 1'],
    Interval: 30 * S,
    Timeout: 3 * S,
    StartPeriod: 60 * S,
    StartInterval: 2 * S,
    Retries: 3,
  });
  expect(up.cfg.OnBuild).toEqual([
    'RUN echo "triggered in $(pwd)" > /onbuild.txt',
    'ENV TRIGGERED=yes',
    'RUN <<DOC\necho heredoc trigger > /onbuild-heredoc.txt\nDOC',
  ]);
  expect(await up.image.exists('/onbuild.txt')).toBe(false); // triggers do not run in the image that declares them
  expect(up.history.slice(1)).toEqual([
    'HEALTHCHECK {Test:[CMD-SHELL wget -q -O- http://127.0.0.1/ || exit 1] Interval:30s Timeout:3s StartPeriod:1m0s StartInterval:2s Retries:3}',
    'ONBUILD RUN echo "triggered in $(pwd)" > /onbuild.txt',
    'ONBUILD ENV TRIGGERED=yes',
    'ONBUILD RUN <<DOC\necho heredoc trigger > /onbuild-heredoc.txt\nDOC',
  ]);

  const child = `${env.reg.host}/e2e/onbuild-child:1`;
  const c = await runExecutor([
    '--context',
    await context(CHILD),
    '--destination',
    child,
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `PARENT=${parent}`,
  ]);
  expect(c.exitCode, c.stderr).toBe(0);
  const down = await inspected(child);
  expect(await down.image.readFile('/onbuild.txt')).toBe('triggered in /\n');
  expect(await down.image.readFile('/onbuild-heredoc.txt')).toBe('heredoc trigger\n');
  expect(await down.image.readFile('/stage-trigger.txt')).toBe('stage trigger\n');
  expect(down.cfg.Env).toContain('TRIGGERED=yes');
  expect(down.cfg.OnBuild ?? null).toBeNull();
  expect(down.cfg.Healthcheck).toEqual({ Test: ['NONE'] });
  expect(down.history.slice(5)).toEqual([
    'RUN /bin/sh -c echo "triggered in $(pwd)" > /onbuild.txt # buildkit',
    'ENV TRIGGERED=yes',
    'RUN /bin/sh -c echo heredoc trigger > /onbuild-heredoc.txt\n # buildkit',
    'ONBUILD RUN echo stage trigger > /stage-trigger.txt',
    'RUN /bin/sh -c echo stage trigger > /stage-trigger.txt # buildkit',
    'HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}',
    'CMD ["true"]',
  ]);
});

test.each([
  ['ONBUILD ONBUILD RUN x', /Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/],
  ['ONBUILD FROM busybox', /Dockerfile:2: FROM isn't allowed as an ONBUILD trigger/],
  ['ONBUILD MAINTAINER me', /Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger/],
  ['HEALTHCHECK --interval=soon CMD true', /Dockerfile:2: invalid duration for --interval: "soon"/],
  ['HEALTHCHECK CMD', /Dockerfile:2: Missing command after HEALTHCHECK CMD/],
])('%s is refused with exit 3', async (line, message) => {
  const r = await runExecutor(['--context', await context(['FROM scratch', line]), '--no-push']);
  expect(r.exitCode, r.stderr).toBe(3);
  expect(r.stderr).toMatch(message);
});
