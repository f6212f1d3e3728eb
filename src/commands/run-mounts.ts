/**
 * `RUN --mount`, host side: turns parsed mount specs into host paths the runner mounts inside
 * the step's private mount namespace (runc: exec/oci-spec.ts; in place: exec/in-place-script.ts), with BuildKit's semantics:
 * - bind: a path of the build context, or of a `from=` stage or image, read-only unless `rw` —
 *   and then writes are discarded (an overlay on a private tmpfs), never written back;
 * - cache: a directory under Kiln's state dir, keyed by `id` (default: the target), kept between
 *   builds; `sharing=locked` and `private` hold a lock while the step runs (Kiln runs one step at
 *   a time, so `private` waits for another build instead of making a second instance);
 * - tmpfs: an empty tmpfs; secret: the value as a read-only file (0400 root unless mode/uid/gid),
 *   and/or as an environment variable (`env=`).
 * Mount points that had to be made are removed after the step (MountTargets), so no target is
 * ever part of a layer; a secret's value never reaches a log, a layer or the history.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ensurePrivateDir, stateEntryDir, stateLockFile } from '../cache/state-dir.js';
import { fsError, StepError, type SourceLocation } from '../errors.js';
import { makeFilteredView } from '../context/filtered-view.js';
import type { PathFilter } from '../context/path-filter.js';
import type { ExtraMounts, RunMount } from '../exec/runner.js';
import { MountTargets, type MountPointKind } from '../rootfs/mount-points.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { ResolvedFrom } from '../plan/sources.js';
import type { RunMountSpec as MountSpec } from './run-mount-spec.js';
import { bindSource } from './bind-source.js';

/** What RUN mounts need from the build. */
export interface RunMountEnv {
  /** The build context directory: the default source of bind mounts. */
  contextDir: string;
  /**
   * The build's `.dockerignore`, on paths relative to the context root: a bind of the context
   * shows only what it keeps, as BuildKit's does (the context it mounts was filtered when sent).
   */
  contextIgnore: PathFilter;
  /** The rootfs of the stage or image a `from=` names, as the plan resolved it (built, or pulled for it). */
  fromSource: (from: ResolvedFrom) => Promise<Rootfs>;
  /** Where cache mounts live between builds (`<state dir>/cache/run-mounts`). */
  cacheRoot: string;
  /** A directory of this build for per-step scratch files; removed with the build. */
  scratchDir: string;
  /** The value of build secret `id` (`--secret`), or undefined when none was given. */
  secret: (id: string) => Promise<Buffer | undefined>;
}

/** The mounts of one RUN, ready for the runner. */
export interface PreparedRunMounts {
  extra: ExtraMounts;
  /** `NAME=value` entries for secrets exposed as environment variables. */
  env: string[];
  /** Removes mount points and scratch files; call once the step has ended, before the snapshot. */
  cleanup(): Promise<void>;
  /** Directories of the rootfs in which mount points were made (MountTargets.touchedDirs). */
  touchedDirs(): string[];
}

/** A mount already placed, for targets nested below it. */
interface Placed {
  target: string;
  hostTarget: string;
  /** Where a nested target is looked up, and whether a missing one may be made there; undefined: nothing may nest here. */
  nest?: { targets: MountTargets; root: Rootfs; create: boolean };
}

/** Mount targets Kiln itself provides; a RUN --mount below them would be hidden or hide them. */
const RESERVED = ['/dev', '/proc', '/sys'];

const depth = (p: string): number => p.split('/').length;
const under = (p: string, dir: string): boolean => p.startsWith(`${dir}/`);

/** Where {@link prepareRunMounts} prepares a RUN's mounts. */
export interface PrepareRunMountsOptions {
  /** The stage's rootfs. */
  rootfs: Rootfs;
  env: RunMountEnv;
  /** The RUN's Dockerfile location, named by errors. */
  at: SourceLocation;
  /** A `#!` heredoc the step runs as a script file. */
  script?: { name: string; content: string } | undefined;
}

/** Prepares `specs` (and a `#!` heredoc `opts.script`) for one RUN in `opts.rootfs`. */
export async function prepareRunMounts(
  specs: readonly MountSpec[],
  opts: PrepareRunMountsOptions,
): Promise<PreparedRunMounts> {
  const { rootfs, env, at, script } = opts;
  await mkdir(env.scratchDir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw fsError(`creating ${env.scratchDir}`, err);
  });
  const scratch = await mkdtemp(join(env.scratchDir, 'run-'));
  const rootTargets = new MountTargets(rootfs);
  const nested: MountTargets[] = [];
  const cleanup = async (): Promise<void> => {
    for (const t of nested.reverse()) await t.cleanup();
    await rootTargets.cleanup();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    const extra: ExtraMounts = { mounts: [], scratch: join(scratch, 'ns'), locks: [] };
    await mkdir(extra.scratch);
    if (script) extra.pipes = await writeScript(scratch, script);
    const envs: string[] = [];
    const placed: Placed[] = [];
    // Parents before children (stable), as a container runtime applies nested mounts.
    const ordered = [...specs].sort(
      (a, b) =>
        depth(a.type === 'secret' ? (a.target ?? '/') : a.target) -
        depth(b.type === 'secret' ? (b.target ?? '/') : b.target),
    );
    for (const [i, spec] of ordered.entries()) {
      const step = new MountStep(spec, i, { scratch, env, at, rootTargets, nested, placed });
      const done = await step.place();
      if (done.mount) extra.mounts.push(done.mount);
      if (done.lock) extra.locks.push(done.lock);
      if (done.env) envs.push(done.env);
    }
    return { extra, env: envs, cleanup, touchedDirs: () => rootTargets.touchedDirs() };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Writes a `#!` heredoc as an executable file in its own directory, mounted read-only at /dev/pipes. */
async function writeScript(scratch: string, script: { name: string; content: string }): Promise<string> {
  const dir = join(scratch, 'pipes');
  await mkdir(dir, { mode: 0o755 });
  await writeFile(join(dir, script.name), script.content, { mode: 0o755 });
  await chmod(join(dir, script.name), 0o755);
  return dir;
}

interface StepContext {
  scratch: string;
  env: RunMountEnv;
  at: SourceLocation;
  rootTargets: MountTargets;
  nested: MountTargets[];
  placed: Placed[];
}

/** One mount being placed. */
class MountStep {
  constructor(
    private readonly spec: MountSpec,
    private readonly index: number,
    private readonly ctx: StepContext,
  ) {}

  private fail(message: string, hint?: string): never {
    throw new StepError(`RUN --mount: ${message}`, this.ctx.at, hint === undefined ? undefined : { hint });
  }

  async place(): Promise<{ mount?: RunMount; lock?: string; env?: string }> {
    const s = this.spec;
    switch (s.type) {
      case 'tmpfs':
        return {
          mount: {
            kind: 'tmpfs',
            target: await this.target(s.target, 'dir', undefined),
            ...(s.sizeBytes === undefined ? {} : { sizeBytes: s.sizeBytes }),
          },
        };
      case 'bind':
        return { mount: await this.bind(s) };
      case 'cache':
        return this.cache(s);
      case 'secret':
        return this.secret(s);
    }
  }

  /** Prepares the mount point of `target`, inside the deepest mount already placed above it, and records it for nesting. */
  private async target(target: string, kind: MountPointKind, nest: Placed['nest']): Promise<string> {
    const reserved = RESERVED.find((r) => target === r || under(target, r));
    if (reserved) this.fail(`target ${target} is not supported: Kiln provides ${reserved} itself`);
    const parent = [...this.ctx.placed].reverse().find((p) => under(target, p.target));
    let hostTarget: string;
    if (parent) {
      if (!parent.nest)
        this.fail(`target ${target} is inside the mount at ${parent.target}, which cannot hold other mounts`);
      const rel = `/${relative(parent.target, target)}`;
      const got = await parent.nest.targets.prepare(rel, kind, parent.nest.create);
      if ('error' in got) this.fail(`cannot mount on ${target}: in the mount at ${parent.target}, ${got.error}`);
      hostTarget = join(parent.hostTarget, relative(parent.nest.root.root, got.host));
    } else {
      const got = await this.ctx.rootTargets.prepare(target, kind, true);
      if ('error' in got) this.fail(`cannot mount on ${target}: ${got.error}`);
      hostTarget = got.host;
    }
    this.ctx.placed.push({ target, hostTarget, ...(nest ? { nest } : {}) });
    return hostTarget;
  }

  private nestIn(root: Rootfs, create: boolean): Placed['nest'] {
    const targets = new MountTargets(root);
    this.ctx.nested.push(targets);
    return { targets, root, create };
  }

  private async bind(s: Extract<MountSpec, { type: 'bind' }>): Promise<RunMount> {
    const where = s.from === undefined ? 'the build context' : `--from=${s.from.value}`;
    const found = await bindSource(s, this.ctx.env);
    if (found.kind === 'missing') return this.fail(`source ${s.source} not found in ${where}`);
    if (found.kind === 'other') return this.fail(`source ${s.source} in ${where} is neither a file nor a directory`);
    const { kind, rel, ignore } = found;
    let source = found.source;
    if (kind === 'dir' && ignore.mayExcludeWithin(rel)) {
      const view = join(this.ctx.scratch, `bind-view-${this.index}`);
      await makeFilteredView(source, rel, ignore, view);
      source = view;
    }
    const nest = kind === 'dir' ? this.nestIn(new Rootfs(source), false) : undefined;
    const target = await this.target(s.target, kind, nest);
    if (s.readonly) return { kind: 'bind', source, target, readonly: true };
    if (kind === 'dir') return { kind: 'overlay', source, target };
    // A writable single file: a private copy, thrown away with the scratch directory.
    const copy = join(this.ctx.scratch, `bind-${this.index}`);
    await copyFile(source, copy);
    return { kind: 'bind', source: copy, target, readonly: false };
  }

  private async cache(s: Extract<MountSpec, { type: 'cache' }>): Promise<{ mount: RunMount; lock?: string }> {
    // The cache root is checked from / down on every use (cache/state-dir.ts): another local user
    // must not have planted it, a symlink or a lock file in it.
    const root = await ensurePrivateDir(this.ctx.env.cacheRoot);
    const name = createHash('sha256').update(s.id).digest('hex').slice(0, 32);
    const { path: dir, made } = await stateEntryDir(root, name);
    if (made) {
      // A new cache directory gets mode/uid/gid as BuildKit's "settings cache mount permissions" step makes it.
      await chown(dir, s.uid, s.gid)
        .then(() => chmod(dir, s.mode))
        .catch((err: unknown) => {
          throw fsError(`creating the cache mount directory ${dir}`, err);
        });
    }
    const target = await this.target(s.target, 'dir', this.nestIn(new Rootfs(dir), true));
    const mount: RunMount = { kind: 'bind', source: dir, target, readonly: s.readonly };
    if (s.sharing === 'shared') return { mount };
    return { mount, lock: await stateLockFile(join(root, `${name}.lock`)) };
  }

  private async secret(s: Extract<MountSpec, { type: 'secret' }>): Promise<{ mount?: RunMount; env?: string }> {
    const value = await this.ctx.env.secret(s.id);
    if (value === undefined) {
      // BuildKit skips an optional secret that was not provided.
      if (s.required)
        this.fail(
          `secret ${s.id} is required but was not given`,
          `pass --secret id=${s.id},src=PATH or --secret id=${s.id},env=VAR`,
        );
      return {};
    }
    const out: { mount?: RunMount; env?: string } = {};
    if (s.env !== undefined) out.env = `${s.env}=${value.toString('utf8')}`;
    if (s.target !== undefined) {
      const file = join(this.ctx.scratch, `secret-${this.index}`);
      await writeFile(file, value, { mode: 0o600 });
      await chown(file, s.uid, s.gid);
      await chmod(file, s.mode);
      out.mount = {
        kind: 'bind',
        source: file,
        target: await this.target(s.target, 'file', undefined),
        readonly: true,
      };
    }
    return out;
  }
}
