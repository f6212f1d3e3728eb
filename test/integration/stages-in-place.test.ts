/**
 * How `buildStages` runs the stages of an in-place build (issue 13, item 1): the target and every
 * stage with a RUN go over one shared root, one after another, each emptying it first, as Kaniko
 * builds its stages; a later `COPY --from` of such a stage gets the stage's own files (its layers
 * unpacked again), not whatever the shared root holds by then. The shared root is a temporary
 * directory standing in for `/`: the real in-place workspace is tested under podman.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { BuildEnv } from '../../src/executor/build-env.js';
import { ScratchWorkspace, type StageKind, type StageRoot } from '../../src/executor/workspace.js';
import { Rootfs } from '../../src/rootfs/rootfs.js';
import { FakeRunner } from '../support/fake-runner.js';
import { buildInProcess, layerNames } from '../support/in-process-build.js';

/** InPlaceWorkspace's placement over a directory of the work dir instead of `/`. */
class SharedRootWorkspace extends ScratchWorkspace {
  readonly mode = 'isolation: in-place (test: a shared directory stands in for /)';
  readonly cleared: number[] = [];

  constructor(env: BuildEnv, work: string) {
    super(env, work);
  }

  override inPlace(stage: StageKind): boolean {
    return stage.isTarget || stage.hasRun;
  }

  override async stageRootfs(index: number, inPlace: boolean): Promise<StageRoot> {
    if (!inPlace) return super.stageRootfs(index, inPlace);
    const root = join(this.work, 'shared-root');
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { mode: 0o755 });
    this.cleared.push(index);
    return { rootfs: new Rootfs(root, this.env.ownership) };
  }
}

const DOCKERFILE = `FROM scratch AS one
COPY one.txt /one.txt
RUN make-one
FROM scratch AS two
COPY two.txt /two.txt
RUN make-two
FROM scratch AS plain
COPY plain.txt /plain.txt
FROM scratch
COPY --from=one /one.txt /one-out /from-one/
COPY --from=two /two-out /from-two/
COPY --from=plain /plain.txt /from-plain/
`;

test('stages with a RUN run one after another over the shared root, each on an empty one; COPY --from reads their own files', async () => {
  const seen: Record<string, string[]> = {};
  const running: string[] = [];
  const order: string[] = [];
  const step =
    (name: string) =>
    async (s: { host(p: string): string; write(p: string, c: string): Promise<void> }): Promise<void> => {
      order.push(`start ${name}`);
      running.push(name);
      // (dev, proc and sys are the mount points the step itself gets)
      seen[name] = (await readdir(s.host('/'))).filter((n) => !['dev', 'proc', 'sys'].includes(n)).sort();
      await new Promise((r) => setTimeout(r, 20)); // a stage running beside this one would start now
      await s.write(`/${name}-out`, `${name} built\n`);
      running.splice(running.indexOf(name), 1);
      order.push(`end ${name}`);
    };
  const runner = new FakeRunner({ 'make-one': step('one'), 'make-two': step('two') });
  let ws: SharedRootWorkspace | undefined;
  const { image, logs } = await buildInProcess({
    runner,
    dockerfile: DOCKERFILE,
    context: { 'one.txt': 'one\n', 'two.txt': 'two\n', 'plain.txt': 'plain\n' },
    workspace: (env, work) => (ws = new SharedRootWorkspace(env, work)),
  });
  // Each RUN saw only its own stage's files: the root was emptied of the stage before.
  expect(seen).toEqual({ one: ['one.txt'], two: ['two.txt'] });
  expect(order).toEqual(['start one', 'end one', 'start two', 'end two']);
  // The target went over the shared root too; the stage without a RUN kept its own directory.
  expect(ws?.cleared).toEqual([0, 1, 3]);
  expect(logs).toContain(`INFO ${ws?.mode ?? ''}`);
  // The target's COPY --from got each stage's own files, though the root held the target by then.
  expect(await layerNames(image, 0)).toEqual(['from-one/', 'from-one/one-out', 'from-one/one.txt']);
  expect(await layerNames(image, 1)).toEqual(['from-two/', 'from-two/two-out']);
  expect(await layerNames(image, 2)).toEqual(['from-plain/', 'from-plain/plain.txt']);
});
