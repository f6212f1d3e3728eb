/**
 * Copies one matched source of COPY/ADD from its tree (the build context or a stage) into the
 * rootfs: a file lands at the destination or inside it (copy-dest.ts), a directory's contents go
 * into the destination, a `--parents` source keeps its relative path below the destination (its
 * kept parent directories made like their sources), and for ADD a local tar archive is unpacked
 * into the destination instead. `.dockerignore` and `--exclude` filter what is below. FIFOs and
 * device nodes of another stage or image are copied as what they are (BuildKit's fsutil copy
 * makes them with mknod); those of the build context are skipped.
 */
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import type { PathFilter, FilterVerdict } from '../context/path-filter.js';
import { errnoCode, fsError } from '../errors.js';
import { findOnPath } from '../exec/find-on-path.js';
import { mknodTool } from '../exec/mknod.js';
import {
  copyDirectoryShell,
  copyIntoRootfs,
  type CopyInOptions,
  type Selector,
  type SpecialMaker,
} from '../rootfs/copy-in.js';
import type { Owner } from '../rootfs/mkdir.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { statInTree } from '../rootfs/sources.js';
import { openArchive, unpackInto, type ArchiveIO } from './add-archive.js';
import type { ChmodFn } from './copy-chmod.js';
import { fileTarget, type Destination } from './copy-dest.js';
import { relOf, type MatchedSource, type SourceTree } from './copy-sources.js';

/** What copying one matched source needs. */
export interface TreeItemContext {
  rootfs: Rootfs;
  dest: Destination;
  /** The destination is (or names) a directory: files go inside it. */
  intoDir: boolean;
  chmod: ChmodFn | undefined;
  excludes: PathFilter;
  /** undefined keeps the source's owners (`COPY --from` without `--chown`). */
  owner: Owner | undefined;
  links: Map<string, string>;
  io: ArchiveIO;
  /** The context's files may be taken rather than copied (StepContext.takeContext). */
  takeSources?: boolean;
}

const join = (a: string, b: string): string => (a === '' ? b : b === '' ? a : `${a}/${b}`);

/** The stricter of two verdicts: leaving out beats looking inside beats copying. */
function stricter(a: FilterVerdict, b: FilterVerdict): FilterVerdict {
  if (a === 'exclude' || b === 'exclude') return 'exclude';
  return a === 'descend' || b === 'descend' ? 'descend' : 'include';
}

/**
 * The filter for entries below `match`: `.dockerignore` sees paths relative to the context root
 * (where the source really is), `--exclude` paths relative to the copied source — or, with
 * `--parents`, relative to the pivot, like the path kept below the destination.
 */
export function selector(tree: SourceTree, match: MatchedSource, excludes: PathFilter): Selector | undefined {
  if (tree.ignore.empty && excludes.empty) return undefined;
  const ctxBase = relOf(match.entry.resolvedPath);
  const exclBase = match.keep ?? '';
  return (rel, isDir) => {
    const ignored = tree.ignore.empty ? 'include' : tree.ignore.verdict(join(ctxBase, rel), isDir);
    const excluded = excludes.empty ? 'include' : excludes.verdict(join(exclBase, rel), isDir);
    return stricter(ignored, excluded);
  };
}

/**
 * Makes FIFOs and device nodes with coreutils `mknod`, looked up on the build's PATH when the
 * first one is met; without it, or without CAP_MKNOD for a device, the entry is left out with a
 * warning, as layer extraction does (layers/layer-writer.ts).
 */
function specialMaker(ins: CopyInstruction, rootfs: Rootfs, io: ArchiveIO): SpecialMaker {
  let tool: Promise<SpecialMaker | undefined> | undefined;
  return async (host, kind, dev) => {
    tool ??= findOnPath('mknod', io.env.PATH ?? '').then((p) => (p === undefined ? undefined : mknodTool(p)));
    const make = await tool;
    const what = `${kind === 'fifo' ? 'fifo' : `${kind} device`} ${rootfs.imagePathOf(host)}`;
    if (!make) {
      io.logger.warn(`${ins.kind}: skipping ${what}: mknod is not available`);
      return 'not-permitted';
    }
    const made = await make(host, kind, dev).catch((err: unknown) => {
      throw fsError(`${ins.kind}: creating ${what}`, err);
    });
    if (made === 'not-permitted')
      io.logger.warn(`${ins.kind}: skipping ${what}: creating device nodes is not permitted here`);
    return made;
  };
}

/** Whether a host path is a regular file: only those are opened to look for an archive (a FIFO would block). */
async function isRegularFile(host: string): Promise<boolean> {
  try {
    return (await lstat(host)).isFile();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw fsError(`reading ${host}`, err);
  }
}

/** Copies one matched source; returns the image paths written (none when `--exclude` leaves it out). */
export async function copyTreeItem(
  ins: CopyInstruction,
  item: { tree: SourceTree; match: MatchedSource; fromContext: boolean },
  ctx: TreeItemContext,
): Promise<string[]> {
  const { tree, match } = item;
  const { entry } = match;
  // `--exclude=*.txt hom*` leaves out home.txt itself (Dockerfile reference, "COPY --exclude").
  if (!ctx.excludes.empty && ctx.excludes.verdict(match.keep ?? match.name, entry.isDir) === 'exclude') return [];
  const select = selector(tree, match, ctx.excludes);
  const opts: CopyInOptions = {
    ...(ctx.owner ? { owner: ctx.owner } : {}),
    ...(ctx.chmod ? { mode: ctx.chmod } : {}),
    ...(ctx.chmod?.octal !== undefined ? { newDirMode: ctx.chmod.octal } : {}),
    ...(select ? { select } : {}),
    links: ctx.links,
    ...(item.fromContext && entry.resolvedPath === '/' ? { plainTop: true } : {}),
    ...(item.fromContext ? {} : { special: specialMaker(ins, ctx.rootfs, ctx.io) }),
    ...(item.fromContext && ctx.takeSources === true ? { takeSources: true } : {}),
  };
  if (
    ins.kind === 'ADD' &&
    ins.unpack !== false &&
    item.fromContext &&
    !entry.isDir &&
    (await isRegularFile(entry.hostPath))
  ) {
    const tarBytes = await openArchive(entry.hostPath, ctx.io);
    if (tarBytes)
      return unpackInto(ctx.rootfs, tarBytes, {
        destDir: ctx.dest.path,
        owner: ctx.owner ?? { uid: 0, gid: 0 },
        name: match.entry.imagePath.slice(1),
        io: ctx.io,
      });
  }
  if (match.keep === undefined || match.base === undefined) {
    const target = entry.isDir ? ctx.dest.path : fileTarget(ctx.dest, ctx.intoDir, match.name);
    return copyIntoRootfs(ctx.rootfs, entry.hostPath, target, opts);
  }
  // --parents: the kept directories between the destination and the source, made like theirs.
  const written: string[] = [];
  const parts = match.keep.split('/');
  for (let i = 1; i < parts.length; i++) {
    const kept = parts.slice(0, i).join('/');
    const srcDir = await statInTree(tree.root, posix.join(match.base, kept));
    if (srcDir)
      written.push(...(await copyDirectoryShell(ctx.rootfs, srcDir.hostPath, posix.join(ctx.dest.path, kept), opts)));
  }
  const target = posix.join(ctx.dest.path, match.keep);
  // A kept directory is an entry below the copy's root in BuildKit, not its destination: made like its source.
  if (entry.isDir) written.push(...(await copyDirectoryShell(ctx.rootfs, entry.hostPath, target, opts)));
  written.push(...(await copyIntoRootfs(ctx.rootfs, entry.hostPath, target, opts)));
  return written;
}
