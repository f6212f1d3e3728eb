/**
 * The source digest of a COPY or ADD, for its layer cache key (issue 15, cache/step-key.ts):
 * what the instruction would take, gathered as copy.ts gathers it (wildcards, `--parents`,
 * `.dockerignore`, `--exclude`) and walked as the copy walks it (rootfs/tree-digest.ts). Owners
 * count only where the copy keeps them (`COPY --from` without `--chown`). Undefined where the
 * sources cannot be known without fetching them — ADD of a URL or of a git repository — so such
 * a step is never taken from the cache.
 */
import { createHash } from 'node:crypto';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import { treeDigest } from '../rootfs/tree-digest.js';
import { gather, options } from './copy.js';
import { heredocContent } from './copy-heredoc.js';
import { selector } from './copy-tree-item.js';
import type { StageState, StepContext } from './step.js';

/** `sha256:<hex>` of the instruction's sources, or undefined when they are remote. */
export async function copySourcesDigest(
  ins: CopyInstruction,
  state: StageState,
  ctx: StepContext,
): Promise<string | undefined> {
  const opts = options(ins, state, ctx.planned.from);
  const items = await gather(ins, state, opts, ctx);
  const out = createHash('sha256');
  for (const item of items) {
    switch (item.kind) {
      case 'http':
      case 'git':
        return undefined;
      case 'heredoc':
        out.update(`${JSON.stringify(['heredoc', item.doc.name, heredocContent(ins, state, item.doc)])}\n`);
        break;
      case 'tree': {
        const { match } = item;
        const select = selector(item.tree, match, opts.excludes);
        const digest = await treeDigest(match.entry.hostPath, {
          ...(select ? { select } : {}),
          owners: !item.fromContext && ins.chown === undefined,
        });
        // Where it lands below the destination is part of what the copy does.
        out.update(`${JSON.stringify(['tree', match.name, match.keep ?? null, match.entry.isDir, digest])}\n`);
        break;
      }
    }
  }
  return `sha256:${out.digest('hex')}`;
}
