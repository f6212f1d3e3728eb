/**
 * COPY from the build context, with Docker's destination rules: a directory source copies its
 * contents; several sources, a wildcard or a destination ending in `/` (or an existing
 * directory) mean "into this directory"; a relative destination is under WORKDIR.
 */
import { lstat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { DockerfileError, StepError } from '../errors.js';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import { matchSources, SourceNotFound } from '../context/sources.js';
import { matchRootfsSources } from '../rootfs/sources.js';
import { copyIntoRootfs, isDirectoryInRootfs } from '../rootfs/copy-in.js';
import type { Owner } from '../rootfs/mkdir.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { readRootfsFile } from '../rootfs/read.js';
import { parseGroup, parsePasswd } from '../exec/users.js';
import { expand } from './expand.js';
import type { StageState, StepResult } from './step.js';

export interface CopyDeps {
  rootfs: Rootfs;
  contextDir: string;
  /** The rootfs of a `--from` stage or image (built or pulled by the executor). */
  fromSource: (value: string) => Promise<Rootfs>;
}

/** Flags of COPY that Kiln does not implement yet: refused, never silently ignored. */
const UNSUPPORTED = ['link', 'parents', 'exclude'];

interface Matched {
  hostPath: string;
  /** The source's own name, used when copying into a directory. */
  name: string;
}

/** Sources from the build context (owner root unless --chown), or from a --from stage/image (owner kept). */
async function gatherSources(ins: CopyInstruction, state: StageState, deps: CopyDeps): Promise<Matched[]> {
  const matched: Matched[] = [];
  const from = ins.flags.from;
  const fromRoot = typeof from === 'string' ? await deps.fromSource(expand(ins, state, from)) : undefined;
  for (const s of ins.sources) {
    const src = expand(ins, state, s);
    if (fromRoot) {
      const found = await matchRootfsSources(fromRoot, src);
      if (found.length === 0) throw new StepError(`COPY --from=${String(from)} failed: ${src} not found`, ins.at);
      matched.push(...found.map((f) => ({ hostPath: f.hostPath, name: basename(f.imagePath) })));
      continue;
    }
    try {
      matched.push(...(await matchSources(deps.contextDir, src)).map((m) => ({ hostPath: m.hostPath, name: basename(m.relPath) })));
    } catch (err) {
      if (err instanceof SourceNotFound) throw new StepError(`COPY failed: ${err.message}`, ins.at, { cause: err });
      throw err;
    }
  }
  return matched;
}

/**
 * `--chown=user[:group]`: names are looked up in the image's /etc/passwd and /etc/group; without
 * a group the gid is the same number as the uid (Docker's documented rule).
 */
async function ownerOf(ins: CopyInstruction, state: StageState, rootfs: Rootfs): Promise<Owner | undefined> {
  const flag = ins.flags.chown;
  if (flag === undefined || flag === true) return ins.flags.from === undefined ? { uid: 0, gid: 0 } : undefined;
  const spec = expand(ins, state, flag);
  const [u = '', g] = spec.split(':', 2);
  const numeric = /^\d+$/;
  let uid: number;
  if (numeric.test(u)) uid = Number(u);
  else {
    const entry = parsePasswd((await readRootfsFile(rootfs, '/etc/passwd')) ?? '').find((e) => e.name === u);
    if (!entry) throw new StepError(`COPY --chown=${spec}: unable to find user ${u}: no matching entries in passwd file`, ins.at);
    uid = entry.uid;
  }
  if (g === undefined || g === '') return { uid, gid: uid };
  if (numeric.test(g)) return { uid, gid: Number(g) };
  const group = parseGroup((await readRootfsFile(rootfs, '/etc/group')) ?? '').find((e) => e.name === g);
  if (!group) throw new StepError(`COPY --chown=${spec}: unable to find group ${g}: no matching entries in group file`, ins.at);
  return { uid, gid: group.gid };
}

function modeOf(ins: CopyInstruction): number | undefined {
  const flag = ins.flags.chmod;
  if (flag === undefined) return undefined;
  if (flag === true || !/^[0-7]{3,4}$/.test(flag)) {
    throw new DockerfileError(`COPY --chmod: "${String(flag)}" is not supported (use octal, e.g. --chmod=755)`, ins.at, { source: ins.text });
  }
  return parseInt(flag, 8);
}

/** COPY from the build context into the rootfs. */
export async function copy(ins: CopyInstruction, state: StageState, deps: CopyDeps): Promise<StepResult> {
  if (ins.kind === 'ADD') throw new DockerfileError('ADD is not supported yet; use COPY for local files', ins.at, { source: ins.text });
  for (const f of UNSUPPORTED) {
    if (ins.flags[f] !== undefined) throw new DockerfileError(`COPY --${f} is not supported yet`, ins.at, { source: ins.text });
  }
  if (ins.heredocs.length > 0) throw new DockerfileError('COPY with a heredoc is not supported yet', ins.at, { source: ins.text });
  const mode = modeOf(ins);
  const owner = await ownerOf(ins, state, deps.rootfs);
  const rawDest = expand(ins, state, ins.dest);
  const dest = posix.resolve(state.config.WorkingDir || '/', rawDest);
  const matched = await gatherSources(ins, state, deps);
  const intoDir = rawDest.endsWith('/') || rawDest === '.' || matched.length > 1 || (await isDirectoryInRootfs(deps.rootfs, dest));
  const written: string[] = [];
  for (const m of matched) {
    const isDir = (await lstat(m.hostPath)).isDirectory();
    const target = isDir || !intoDir ? dest : posix.join(dest, m.name);
    const opts = { ...(owner ? { owner } : {}), ...(mode === undefined ? {} : { mode }) };
    written.push(...(await copyIntoRootfs(deps.rootfs, m.hostPath, target, opts)));
  }
  return { state, changes: [...new Set(written)].map((path) => ({ kind: 'upsert' as const, path })) };
}
