/**
 * Issue 13, item 9: a RUN whose only effect is a moved timestamp makes a layer recording it, as
 * Docker's overlay diff, Kaniko and Buildah do — `touch -t` of a file or a directory, a file
 * written again with the same bytes, a temporary file made and removed — while a RUN that only
 * reads (or runs with Kiln's own mount points and /dev nodes made and removed around it) adds
 * none. Checked in the pushed image with skopeo, umoci and GNU tar.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runExecutor, tempDir, WITHOUT_SYS_ADMIN } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

/** `touch -t` stamps (the step runs without TZ: UTC) and what they are in milliseconds. */
const T2001 = ['200101010000', Date.UTC(2001, 0, 1)] as const;
const T2002 = ['200202020000', Date.UTC(2002, 1, 2)] as const;
const T2003 = ['200303030000', Date.UTC(2003, 2, 3)] as const;

/** Each RUN after the first, and the entries its layer must hold (none: no layer). */
const STEPS: [string, string[]][] = [
  ['echo same > /data/f', ['data/', 'data/f']],
  [`touch -t ${T2001[0]} /data/f`, ['data/', 'data/f']],
  [`touch -t ${T2002[0]} /data/sub`, ['data/', 'data/sub/']],
  [`touch -t ${T2003[0]} /tmp`, ['tmp/']],
  ['echo t > /data/t && rm /data/t', ['data/']],
  ['cat /data/f /data/sub/g > /dev/null', []],
  ['true', []],
];
/** With namespaces: a mount point Kiln makes in /data and removes again moves no mtime of the step's. */
const MOUNT_STEP: [string, string[]] = ['--mount=type=tmpfs,target=/data/mnt ls /data/mnt', []];

test.each(['namespaces', 'chroot'] as const)(
  '%s: a RUN that only moves mtimes makes a layer with them; one that only reads makes none',
  async (mode) => {
    const steps = mode === 'chroot' ? STEPS : [...STEPS, MOUNT_STEP];
    const ctx = await tempDir('run-mtime');
    const lines = ['ARG BASE', 'FROM ${BASE}', 'RUN mkdir -p /data/sub && echo same > /data/f && echo g > /data/sub/g'];
    await writeFile(join(ctx, 'Dockerfile'), [...lines, ...steps.map(([cmd]) => `RUN ${cmd}`), ''].join('\n'));
    const dest = `${env.reg.host}/e2e/run-mtime:${mode}`;
    const r = await runExecutor(
      ['--context', ctx, '--destination', dest, '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`],
      mode === 'chroot' ? { prefix: WITHOUT_SYS_ADMIN } : {},
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^INFO RUN isolation: ${mode}\\b`, 'm'));
    const image = await inspectForTest({ registry: dest });

    // The stage's own history entries (the base has one), and the layer each added.
    const history = (image.config.history ?? []).slice(1);
    expect(history).toHaveLength(1 + steps.length);
    let layer = 1; // layer 0 is the base's
    const seen: [string, string[]][] = [];
    for (const [i, h] of history.entries()) {
      const entries = h.empty_layer ? [] : (await image.layerEntries(layer++)).map((e) => e.replace(/^\.\//, ''));
      if (i > 0) seen.push([steps[i - 1]?.[0] ?? '', entries.sort()]);
    }
    expect(seen).toEqual(steps);
    expect(image.layers).toHaveLength(layer);

    // The image carries the times the steps set.
    expect((await image.stat('/data/f')).mtimeMs).toBe(T2001[1]);
    expect((await image.stat('/data/sub')).mtimeMs).toBe(T2002[1]);
    expect(await image.stat('/tmp')).toMatchObject({ type: 'dir', mode: 0o1777, mtimeMs: T2003[1] });
  },
);
