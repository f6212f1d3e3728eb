/**
 * COPY and ADD (Dockerfile reference, "COPY", "ADD"): sources from the build context (filtered by
 * `.dockerignore`), an earlier stage or image (`COPY --from`), heredocs, and for ADD also remote
 * files, git repositories and local tar archives, which are unpacked. Docker's destination rules
 * are in copy-dest.ts, source matching in copy-sources.ts, ownership in copy-owner.ts, `--chmod`
 * in copy-chmod.ts. `--link` needs nothing more: its promise — the step's layer holds exactly the
 * files the step copied, independent of the layers below — is what every COPY/ADD layer of Kiln
 * already is (the snapshot lists only the copied paths and their parents).
 */
import { DockerfileError, StepError } from '../errors.js';
import type { CopyInstruction, Heredoc } from '../dockerfile/instructions.js';
import { contextDirProblem } from '../context/context-dir.js';
import { hasWildcard } from '../context/glob.js';
import { NO_FILTER, PathFilter } from '../context/path-filter.js';
import { PatternSyntaxError } from '../context/pattern.js';
import { classifySource, urlFileName, type GitSource, type HttpSource } from '../context/remote-source.js';
import type { ResolvedFrom } from '../plan/sources.js';
import { isDirectoryInRootfs, writeStreamIntoRootfs } from '../rootfs/copy-in.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { addGit } from './add-git.js';
import { addUrl, parseDigest, type ExpectedDigest } from './add-url.js';
import { ChmodSyntaxError, parseChmod, type ChmodFn } from './copy-chmod.js';
import { destinationOf, fileTarget, sourceCountError, type Destination } from './copy-dest.js';
import { HEREDOC_MODE, heredocContent, heredocStream } from './copy-heredoc.js';
import { chownOwner } from './copy-owner.js';
import { matchParents, matchSource, type MatchedSource, type SourceTree } from './copy-sources.js';
import { copyTreeItem } from './copy-tree-item.js';
import { expand } from './expand.js';
import type { StageState, StepContext, StepResult } from './step.js';

/** One thing to copy, in instruction order. */
export type Item =
  | { kind: 'tree'; tree: SourceTree; match: MatchedSource; fromContext: boolean }
  | { kind: 'http'; source: HttpSource }
  | { kind: 'git'; source: GitSource }
  | { kind: 'heredoc'; doc: Heredoc };

/** The instruction's flags, expanded and checked. */
export interface Options {
  chmod?: ChmodFn;
  excludes: PathFilter;
  parents: boolean;
  from?: ResolvedFrom;
}

function fail(ins: CopyInstruction, message: string): never {
  throw new DockerfileError(message, ins.at, { source: ins.text });
}

export function options(ins: CopyInstruction, state: StageState, from: ResolvedFrom | undefined): Options {
  const word = (v: string | undefined): string | undefined => (v === undefined ? undefined : expand(ins, state, v));
  const chmodValue = word(ins.chmod);
  try {
    const chmod = chmodValue !== undefined && chmodValue !== '' ? parseChmod(chmodValue) : undefined;
    const excludes = new PathFilter(ins.excludes.map((e) => expand(ins, state, e)));
    return { ...(chmod ? { chmod } : {}), excludes, parents: ins.parents, ...(from ? { from } : {}) };
  } catch (err) {
    if (err instanceof ChmodSyntaxError || err instanceof PatternSyntaxError) fail(ins, `${ins.kind} ${err.message}`);
    throw err;
  }
}

/** Where a context source was looked for, for a COPY that found nothing: the context directory, or that it does not exist. */
async function whereInContext(ctx: StepContext): Promise<string> {
  return (await contextDirProblem(ctx.contextDir)) ?? `looked in the build context ${ctx.contextDir}`;
}

/** The sources of the instruction as items, in order (heredocs last, as BuildKit copies them). */
export async function gather(
  ins: CopyInstruction,
  state: StageState,
  opts: Options,
  ctx: StepContext,
): Promise<Item[]> {
  const items: Item[] = [];
  const context = (): SourceTree => ({
    root: new Rootfs(ctx.contextDir),
    ignore: new PathFilter(ctx.dockerignore.patterns),
    label: 'the build context',
  });
  const tree =
    opts.from === undefined
      ? context()
      : { root: await ctx.fromSource(opts.from), ignore: NO_FILTER, label: `--from=${opts.from.value}` };
  for (const word of ins.sources) {
    const src = expand(ins, state, word);
    const kind = opts.from === undefined ? classifySource(src) : { kind: 'local' as const };
    if (kind.kind !== 'local') {
      if (ins.kind === 'COPY')
        fail(
          ins,
          kind.kind === 'git'
            ? `source can't be a git ref for COPY: ${src} (use ADD)`
            : `source can't be a URL for COPY: ${src} (use ADD)`,
        );
      items.push(kind.kind === 'git' ? { kind: 'git', source: kind } : { kind: 'http', source: kind });
      continue;
    }
    const matched = opts.parents ? await matchParents(tree, src) : await matchSource(tree, src);
    // A wildcard matching nothing is fine as long as the instruction copies something (Docker).
    if (matched.length === 0 && !hasWildcard(src)) {
      const why =
        opts.from === undefined
          ? `file not found in build context or excluded by .dockerignore: ${src} (${await whereInContext(ctx)})`
          : `${src} not found in ${tree.label}`;
      throw new StepError(`${ins.kind} failed: ${why}`, ins.at);
    }
    for (const match of matched) items.push({ kind: 'tree', tree, match, fromContext: opts.from === undefined });
  }
  for (const doc of ins.heredocs) items.push({ kind: 'heredoc', doc });
  return items;
}

/**
 * `--checksum` of ADD (BuildKit dispatchCopy): one source only, remote only; for a URL a digest
 * checked over the download, for a git repository the commit the ref must resolve to.
 */
function checksumOf(
  ins: CopyInstruction,
  state: StageState,
  items: readonly Item[],
): { digest?: ExpectedDigest; commit?: string } {
  const value = ins.checksum;
  if (value === undefined) return {};
  const checksum = expand(ins, state, value);
  if (ins.sources.length !== 1) fail(ins, "checksum can't be specified for multiple sources");
  const item = items[0];
  if (item?.kind === 'http') return { digest: parseDigest(ins, checksum) };
  if (item?.kind === 'git') return { commit: checksum };
  return fail(ins, 'checksum requires HTTP(S) or Git sources');
}

/** COPY or ADD into the rootfs. */
export async function copy(ins: CopyInstruction, state: StageState, ctx: StepContext): Promise<StepResult> {
  const opts = options(ins, state, ctx.planned.from);
  const dest: Destination = destinationOf(expand(ins, state, ins.dest), state.config.WorkingDir ?? '');
  const chowned = await chownOwner(ins, state, ctx.rootfs);
  const items = await gather(ins, state, opts, ctx);
  const { digest, commit } = checksumOf(ins, state, items);
  if (items.length === 0) {
    // Wildcards that matched nothing: in a context that does not exist, that is the reason.
    const missing = ctx.planned.from === undefined ? await contextDirProblem(ctx.contextDir) : undefined;
    throw new StepError(`${ins.kind} failed: no source files were specified${missing ? ` (${missing})` : ''}`, ins.at);
  }
  const countError = sourceCountError(ins.kind, items.length, dest);
  if (countError) fail(ins, countError);
  const intoDir = dest.spelledAsDir || (await isDirectoryInRootfs(ctx.rootfs, dest.path));
  const root = { uid: 0, gid: 0 };
  const links = new Map<string, string>();
  const written: string[] = [];
  for (const item of items) {
    ctx.signal.throwIfAborted();
    switch (item.kind) {
      case 'tree':
        written.push(
          ...(await copyTreeItem(ins, item, {
            rootfs: ctx.rootfs,
            dest,
            intoDir,
            chmod: opts.chmod,
            excludes: opts.excludes,
            owner: chowned ?? (item.fromContext ? root : undefined),
            links,
            io: ctx,
            ...(item.fromContext && ctx.takeContext === true ? { takeSources: true } : {}),
          })),
        );
        break;
      case 'http': {
        const target = fileTarget(dest, intoDir, urlFileName(item.source.url));
        written.push(
          ...(await addUrl(
            ins,
            ctx.rootfs,
            {
              url: item.source.url,
              target,
              destDir: dest.path,
              owner: chowned ?? root,
              ...(opts.chmod ? { chmod: opts.chmod } : {}),
              ...(digest ? { checksum: digest } : {}),
            },
            ctx,
          )),
        );
        break;
      }
      case 'git': {
        const select = opts.excludes.empty
          ? undefined
          : (rel: string, isDir: boolean) => opts.excludes.verdict(rel, isDir);
        const gitItem = {
          source: item.source,
          destDir: dest.path,
          owner: chowned ?? root,
          keepGitDir: ins.keepGitDir,
          ...(opts.chmod ? { chmod: opts.chmod } : {}),
          ...(commit === undefined ? {} : { commit }),
          ...(select ? { select } : {}),
        };
        written.push(...(await addGit(ins, ctx.rootfs, gitItem, ctx)));
        break;
      }
      case 'heredoc': {
        const content = heredocContent(ins, state, item.doc);
        const mode = opts.chmod ? opts.chmod(HEREDOC_MODE, false) : HEREDOC_MODE;
        written.push(
          ...(await writeStreamIntoRootfs(
            ctx.rootfs,
            fileTarget(dest, intoDir, item.doc.name),
            heredocStream(content),
            { owner: chowned ?? root, mode, mtime: ctx.now(), signal: ctx.signal },
          )),
        );
        break;
      }
    }
  }
  return { state, changes: [...new Set(written)].map((path) => ({ kind: 'upsert' as const, path })) };
}
