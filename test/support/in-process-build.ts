/**
 * Builds a Dockerfile in this process, through `buildStages` and `runStage` as `executor/build.ts`
 * wires them, on temporary directories: a context made from a map of files, a work dir for the
 * rootfses and the blob store, RUN through a {@link FakeRunner}, no registry (clients that throw
 * if used). Only `FROM scratch` and earlier stages can be bases. The directories are removed
 * when the test ends. This file is the one place that knows how the stage builder is wired.
 * It needs no root: run as another user, the stages record the owners Kiln sets instead of
 * setting them (rootfs/ownership.ts), and files keep the process's owner ({@link ownerIds}).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { onTestFinished } from 'vitest';
import { BlobStore } from '../../src/cache/blob-store.js';
import { layerTimes } from '../../src/config/layer-options.js';
import { parseBuildOptions, type RawOptions } from '../../src/config/options.js';
import { dockerignoreFilter, readDockerignore } from '../../src/context/dockerignore.js';
import { parseDockerfile } from '../../src/dockerfile/parse.js';
import type { LayerCache } from '../../src/cache/layer-cache.js';
import type { BuildEnv } from '../../src/executor/build-env.js';
import type { RegistryClients } from '../../src/executor/clients.js';
import { initialState } from '../../src/executor/image-config.js';
import { runStage, type StageOutput } from '../../src/executor/stage.js';
import { buildStages } from '../../src/executor/stages.js';
import { createStageLayers } from '../../src/executor/stage-layers.js';
import { ScratchWorkspace, type Workspace } from '../../src/executor/workspace.js';
import { TarReader } from '../../src/layers/tar-read.js';
import type { LogFields, Logger } from '../../src/log.js';
import type { Image, Layer } from '../../src/oci/image.js';
import { planBuild } from '../../src/plan/planner.js';
import { ownershipFor, RecordedOwnership, type Owner } from '../../src/rootfs/ownership.js';
import { Rootfs } from '../../src/rootfs/rootfs.js';
import { FakeRunner } from './fake-runner.js';

/** A file of the context (or a rootfs): its content, or content and mode. */
export type FileSpec = string | { content: string; mode: number };
export type Files = Readonly<Record<string, FileSpec>>;

export const CREATED = '2024-01-02T03:04:05Z';
const PLATFORM = { os: 'linux', architecture: 'amd64' };

/** Whether these tests run as root, where Kiln sets owners as in a real build. */
export const AS_ROOT = process.geteuid?.() === 0;

/**
 * The owner a layer entry has when Kiln set `uid:gid` (or the fake runner wrote it, as root
 * would): that owner as root; without root, where the stages only record owners, the process's.
 */
export function ownerIds(uid: number, gid: number): { uid: number; gid: number } {
  return AS_ROOT ? { uid, gid } : { uid: process.geteuid?.() ?? uid, gid: process.getegid?.() ?? gid };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-in-process-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeFiles(root: string, files: Files): Promise<void> {
  for (const [path, spec] of Object.entries(files)) {
    const host = join(root, path);
    await mkdir(dirname(host), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: 0o644 } : spec;
    await writeFile(host, content);
    await chmod(host, mode); // exactly, whatever the umask
  }
}

/** Log lines by level, as `LEVEL message`. */
/** A log line with its fields, as {@link BuildOutcome.records} holds it. */
export interface LogRecord {
  level: string;
  msg: string;
  fields?: LogFields | undefined;
}

function recordingLogger(lines: string[], records: LogRecord[] = []): Logger {
  const at = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push(`${level} ${msg}`);
    records.push({ level, msg, fields });
  };
  return {
    error: at('ERROR'),
    warn: at('WARN'),
    info: at('INFO'),
    debug: () => {},
    trace: () => {},
    enabled: (l) => l !== 'debug' && l !== 'trace',
  };
}

/** Registry clients for a build that must not reach a registry: any use fails the test. */
function noRegistry(): RegistryClients {
  const refuse = new Proxy(
    {},
    {
      get: (_t, p) =>
        p === 'then'
          ? undefined
          : () => {
              throw new Error(`in-process build: no registry here (${String(p)} called)`);
            },
    },
  ) as RegistryClients['pull'];
  return {
    pull: refuse,
    push: refuse,
    pullPolicy: { mirrors: () => [], skipDefaultFallback: false, retries: 0, sleep: () => Promise.resolve() },
    pushPolicy: { retries: 0, sleep: () => Promise.resolve(), ignoreImmutableTagErrors: false },
    trustedCas: [],
    close: () => Promise.resolve(),
  };
}

function buildEnv(raw: RawOptions, logs: string[], output: Buffer[], records?: LogRecord[]): BuildEnv {
  return {
    options: parseBuildOptions({ push: false, ...raw }, {}),
    logger: recordingLogger(logs, records),
    now: () => new Date(CREATED),
    env: { PATH: '/usr/bin:/bin' },
    cwd: '/',
    homeDir: '/nonexistent',
    tmpDir: tmpdir(),
    signal: new AbortController().signal,
    hostPlatform: PLATFORM,
    stepOutput: (chunk) => void output.push(chunk),
    version: 'test',
    ownership: ownershipFor(true),
  };
}

export interface InProcessBuild {
  dockerfile: string;
  /** Files of the build context besides the Dockerfile. */
  context?: Files;
  runner?: FakeRunner;
  /** Flags, as the CLI would give them (`buildArg`, `target`, `label`…). */
  options?: Omit<RawOptions, 'context' | 'dockerfile'>;
  /** The workspace over the work dir (default: a scratch workspace). */
  workspace?: (env: BuildEnv, work: string) => Workspace;
  /** The layer cache, used as `--cache` would (give `options.cache: true` and a `cacheRepo` too). */
  layerCache?: LayerCache;
  /** The build's clock (default: always {@link CREATED}). */
  now?: () => Date;
}

export interface BuildOutcome {
  image: Image;
  runner: FakeRunner;
  /** Log lines, `LEVEL message`. */
  logs: string[];
  /** The same lines with their fields. */
  records: LogRecord[];
  /** What RUN steps printed. */
  output: string;
  /**
   * Without root: the owner Kiln meant `imagePath` of stage `stage` to have, as recorded instead
   * of set; undefined when it set none, and always as root (the layers show the owners then).
   */
  wantedOwner(stage: number, imagePath: string): Owner | undefined;
}

/** Builds `b.dockerfile` with `buildStages`; rejects with the build's error. */
export async function buildInProcess(b: InProcessBuild): Promise<BuildOutcome> {
  const dir = await tempDir();
  const contextDir = join(dir, 'context');
  const work = join(dir, 'work');
  await mkdir(work);
  await writeFiles(contextDir, { ...b.context, Dockerfile: b.dockerfile });
  const logs: string[] = [];
  const records: LogRecord[] = [];
  const output: Buffer[] = [];
  const env = buildEnv(
    { ...b.options, context: contextDir, dockerfile: join(contextDir, 'Dockerfile'), kanikoDir: join(dir, 'kaniko') },
    logs,
    output,
    records,
  );
  if (b.now) env.now = b.now;
  const o = env.options;
  const df = parseDockerfile(b.dockerfile);
  const session = b.layerCache
    ? { cache: b.layerCache, options: o.cache, stores: new Set<Promise<void>>() }
    : undefined;
  const plan = planBuild(df, {
    buildArgs: o.buildArgs,
    ...(o.target !== undefined ? { target: o.target } : {}),
    skipUnusedStages: o.skipUnusedStages,
    targetPlatform: PLATFORM,
    buildPlatform: PLATFORM,
  });
  const runner = b.runner ?? new FakeRunner();
  const image = await buildStages({
    env,
    plan,
    workspace: b.workspace ? b.workspace(env, work) : new ScratchWorkspace(env, work),
    contextDir,
    runner,
    store: new BlobStore(join(work, 'blobs')),
    clients: noRegistry(),
    dockerignore: await readDockerignore(contextDir, join(contextDir, 'Dockerfile')),
    ...layerTimes(o, env.env, env.now()),
    layerTools: {},
    ...(session ? { cache: session } : {}),
  });
  if (session) await Promise.all(session.stores);
  const recorded = env.ownership instanceof RecordedOwnership ? env.ownership.wanted : new Map<string, Owner>();
  return {
    image,
    runner,
    logs,
    records,
    output: Buffer.concat(output).toString(),
    wantedOwner: (stage, imagePath) => recorded.get(join(work, `stage-${stage}`, imagePath)),
  };
}

export interface InProcessStage {
  /** One stage (`FROM scratch` first). */
  dockerfile: string;
  /** Files in the rootfs before the stage's first step, as a base image would have left them. */
  rootfs?: Files;
  context?: Files;
  runner?: FakeRunner;
}

/** Runs the one stage of `s.dockerfile` with `runStage` over a prepared rootfs. */
export async function runStageInProcess(
  s: InProcessStage,
): Promise<StageOutput & { runner: FakeRunner; layers: Layer[] }> {
  const dir = await tempDir();
  const contextDir = join(dir, 'context');
  const env = buildEnv({ context: contextDir, kanikoDir: join(dir, 'kaniko') }, [], []);
  const rootfs = new Rootfs(join(dir, 'rootfs'), env.ownership);
  await mkdir(rootfs.root, { mode: 0o755 });
  await writeFiles(rootfs.root, s.rootfs ?? {});
  await writeFiles(contextDir, s.context ?? {});
  const planned = planBuild(parseDockerfile(s.dockerfile), {
    buildArgs: new Map(),
    skipUnusedStages: false,
    targetPlatform: PLATFORM,
    buildPlatform: PLATFORM,
  }).stages[0];
  if (!planned) throw new Error('the Dockerfile has no stage');
  const stage = planned.stage;
  const store = new BlobStore(join(dir, 'blobs'));
  const layers = createStageLayers({
    rootfs,
    store,
    logger: env.logger,
    now: env.now,
    signal: env.signal,
    tools: {},
    settings: env.options,
  });
  await layers.start();
  // The snapshotter learns the prepared files as it would a base's: one snapshot taken now.
  // (Without --single-snapshot, which these tests do not use, the stage has a snapshotter.)
  const snapshotter = layers.snapshotter;
  if (!snapshotter) throw new Error('no snapshotter: the in-process stage tests do not use --single-snapshot');
  await (await snapshotter.begin()).end();
  const runner = s.runner ?? new FakeRunner();
  const initial = initialState({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, '\\');
  const out = await runStage(stage, initial, {
    env,
    rootfs,
    store,
    contextDir,
    runner: () => Promise.resolve(runner),
    dockerignore: { patterns: [] },
    snapshotter,
    layers,
    argScope: { buildArgs: new Map(), globals: new Map() },
    planned: (ins) => planned.sources.get(ins) ?? {},
    fromSource: ({ value }) => Promise.reject(new Error(`no stage ${value} in a one-stage test`)),
    created: CREATED,
    runMounts: {
      cacheRoot: join(dir, 'cache'),
      scratchDir: join(dir, 'run-mounts'),
      secret: () => Promise.resolve(undefined),
      contextIgnore: dockerignoreFilter({ patterns: [] }),
    },
  });
  return { ...out, runner };
}

/** One entry of a layer: `name` as written, its type, mode, owner, and a regular file's content. */
export interface LayerEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string;
  content?: string;
}

/** The entries of a (gzip) layer, read back with Kiln's own tar reader. */
export async function layerEntries(layer: Layer): Promise<LayerEntry[]> {
  const reader = new TarReader((await layer.open()).pipe(createGunzip()));
  const out: LayerEntry[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) {
    const chunks: Buffer[] = [];
    for await (const c of reader.body()) chunks.push(Buffer.from(c));
    out.push({
      name: e.name,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      linkname: e.linkname,
      ...(e.type === 'file' ? { content: Buffer.concat(chunks).toString() } : {}),
    });
  }
  return out;
}

/** The names in layer `i` of `image`. */
export async function layerNames(image: Image, i: number): Promise<string[]> {
  const layer = image.layers[i];
  if (!layer) throw new Error(`the image has ${image.layers.length} layers, no layer ${i}`);
  return (await layerEntries(layer)).map((e) => e.name);
}
