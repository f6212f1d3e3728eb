/**
 * Where a build's stages are built (ARCHITECTURE.md §4): each in a directory of its own, or in
 * place over the container's own `/`. `--rootfs=/` asks for in place; Kiln's own image also
 * chooses it by itself where RUN isolation cannot give a step the pod's `/proc`, `/dev`, DNS and
 * hosts (a pod without mount privileges), since real Dockerfiles need them (`apt-get`, `npm ci`,
 * cluster host names) and Kaniko's RUN has them. Anywhere else nothing changes without the flag:
 * a machine that is not Kiln's own container must never be emptied by surprise.
 */
import type { ProcessRunner } from '../exec/runner.js';
import { selectRunner } from '../exec/select.js';
import type { BuildPlan } from '../plan/planner.js';
import { detectContainer, type ContainerVerdict } from '../rootfs/container.js';
import { readContainerFacts } from '../rootfs/host-facts.js';
import type { BuildEnv } from './build-env.js';
import {
  admitInPlace,
  IN_PLACE_KANIKO_DIR,
  inPlaceWorkspace,
  type InPlaceAdmission,
  type SelfPaths,
} from './in-place-workspace.js';
import { scratchWorkspace, type Workspace } from './workspace.js';

/** Kiln runs from its own image: its program lives under `/kaniko` (the bundle is `/kaniko/lib`). */
export function runsFromOwnImage(self: SelfPaths): boolean {
  return self.kilnDir.startsWith(`${IN_PLACE_KANIKO_DIR}/`);
}

/**
 * Where a build keeps its scratch files (work dir, fetched context): `--kaniko-dir`; else
 * `/kaniko`, Kaniko's default, in Kiln's image or in place; else the temp directory.
 */
export function scratchBase(env: BuildEnv, self: SelfPaths, inPlace: boolean): string {
  return env.options.kanikoDir ?? (inPlace || runsFromOwnImage(self) ? IN_PLACE_KANIKO_DIR : env.tmpDir);
}

/** Whether any planned stage runs a command. */
export function planHasRun(plan: BuildPlan): boolean {
  return plan.stages.some((ps) => ps.stage.instructions.some((i) => i.kind === 'RUN'));
}

/** What {@link defaultInPlace} weighs. */
export interface DefaultInPlaceFacts {
  ownImage: boolean;
  verdict: ContainerVerdict;
  hasRun: boolean;
  /** The isolation chosen for RUN (exec/select.ts). */
  runnerMode: ProcessRunner['mode'];
}

/**
 * The log line of a build that goes in place by default, or undefined: only Kiln's own image,
 * in a container, with a RUN that chroot isolation would leave without /proc and the pod's DNS.
 * PURE.
 */
export function defaultInPlace(f: DefaultInPlaceFacts): string | undefined {
  if (!f.ownImage || !f.verdict.inContainer || !f.hasRun || f.runnerMode !== 'chroot') return undefined;
  return (
    `isolation: in-place (Kiln's image, ${f.verdict.evidence.join(', ')}, without mount privileges: ` +
    "every stage with a RUN is built over the container's own / one after another, as Kaniko does, so RUN " +
    "gets the pod's /proc, /dev, DNS and hosts; mount points, /kaniko and /busybox are kept)"
  );
}

/** A build's workspace, and the RUN runner when it had to be chosen to decide it. */
export interface Placement {
  workspace: Workspace;
  runner?: ProcessRunner;
}

/**
 * Makes the build's workspace. `admission` is an admitted `--rootfs=/`; `self` is where Kiln
 * runs from. In Kiln's own image the work dir defaults to `/kaniko`, Kaniko's `--kaniko-dir`, and
 * when the plan has a RUN the isolation is chosen first: chroot means no mount privileges, and the
 * build goes in place.
 */
export async function placeBuild(
  env: BuildEnv,
  plan: BuildPlan,
  contextDir: string,
  admission: InPlaceAdmission | undefined,
  self: SelfPaths,
): Promise<Placement> {
  if (admission) return { workspace: await inPlaceWorkspace(env, admission, contextDir, undefined, self) };
  const ownImage = runsFromOwnImage(self);
  const scratch = await scratchWorkspace(env, scratchBase(env, self, false));
  if (!ownImage || !planHasRun(plan)) return { workspace: scratch };
  try {
    const facts = await readContainerFacts(env.env);
    const verdict = detectContainer(facts);
    const runner = await selectRunner({
      path: env.env.PATH ?? '',
      workDir: scratch.work,
      inContainer: () => Promise.resolve(verdict.inContainer),
    });
    const mode = defaultInPlace({ ownImage, verdict, hasRun: true, runnerMode: runner.mode });
    if (mode === undefined) return { workspace: scratch, runner };
    const auto = await admitInPlace(env, facts, mode);
    return { workspace: await inPlaceWorkspace(env, auto, contextDir, scratch.work, self), runner };
  } catch (err) {
    scratch.cleanup();
    throw err;
  }
}
