/**
 * `--rootfs=/` (in-place builds, ARCHITECTURE.md §4) outside a container: refused with exit 2 before
 * anything is read, pulled, pushed or created. These tests never run an in-place build — they
 * are skipped where Kiln would detect a container, since there the build would go ahead over `/`
 * (the in-place build itself is tested inside Kiln's image). As a second safety net the
 * Dockerfile named does not exist, so even a broken refusal stops before touching anything.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { detectContainer } from '../../src/rootfs/container.js';
import { readContainerFacts } from '../../src/rootfs/host-facts.js';
import { fixture, runExecutor, tempDir } from '../support/executor.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const verdict = detectContainer(await readContainerFacts(process.env));

let reg: TestRegistry | undefined;
beforeAll(async () => {
  if (!verdict.inContainer) reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

/** The repositories the registry holds (distribution's catalog API). */
async function catalog(r: TestRegistry): Promise<string[]> {
  const res = await fetch(`http://${r.host}/v2/_catalog`);
  const body = (await res.json()) as { repositories?: string[] };
  return body.repositories ?? [];
}

/** Runs a build with `--rootfs=<rootfs(scratch)>`, `scratch` being an empty temp dir, and reports what it left. */
async function refused(
  rootfs: (scratch: string) => string,
): Promise<{ stderr: string; exitCode: number | null; kanikoDir: string; rootfs: string; registry: string[] }> {
  if (!reg) throw new Error('no registry');
  const scratch = await tempDir('inplace');
  const kanikoDir = join(scratch, 'kaniko');
  const r = await runExecutor([
    '--context',
    fixture('hello'),
    '--dockerfile',
    'does-not-exist.Dockerfile',
    '--destination',
    `${reg.host}/t/in-place:1`,
    '--insecure',
    '--kaniko-dir',
    kanikoDir,
    `--rootfs=${rootfs(scratch)}`,
  ]);
  return { ...r, kanikoDir, rootfs: rootfs(scratch), registry: await catalog(reg) };
}

test.skipIf(verdict.inContainer)(
  'outside a container --rootfs=/ is refused with exit 2: nothing created, nothing pushed',
  async () => {
    const r = await refused(() => '/');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      "error: --rootfs=/ builds in place over this machine's own filesystem and is refused outside a container; run Kiln's image, or add --force if you really mean it",
    );
    expect(r.stderr).not.toMatch(/Dockerfile not found|retrieving image|building stage/);
    expect(existsSync(r.kanikoDir)).toBe(false);
    expect(r.registry).toEqual([]);
  },
);

test.skipIf(verdict.inContainer)(
  '--rootfs with any other path is refused with exit 2: only / is supported',
  async () => {
    const r = await refused((scratch) => join(scratch, 'x'));
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: --rootfs "${r.rootfs}": only / is supported`);
    expect(existsSync(r.kanikoDir)).toBe(false);
    expect(existsSync(r.rootfs)).toBe(false);
    expect(r.registry).toEqual([]);
  },
);
