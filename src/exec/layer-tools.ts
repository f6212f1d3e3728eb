/**
 * The host programs layer extraction and writing use (see `layers/tools.ts`), found once per
 * build on the host PATH: `zstd` (zstd layers), `mknod` (fifos and devices), `setfattr` and
 * `getfattr` (extended attributes, file capabilities). A missing program leaves its feature
 * out; the layer code says so when it would have been needed.
 */
import { findOnPath } from './find-on-path.js';
import { mknodTool } from './mknod.js';
import { attrTool } from './xattr.js';
import { zstdCodec } from './zstd.js';

/** What was found; each field is structurally the matching `layers/tools.ts` type. */
export interface HostLayerTools {
  mknod?: ReturnType<typeof mknodTool>;
  xattrs?: ReturnType<typeof attrTool>;
  zstd?: ReturnType<typeof zstdCodec>;
}

/** Finds the programs on `hostPath` (plus the usual system directories). */
export async function findLayerTools(hostPath: string): Promise<HostLayerTools> {
  const searchPath = `${hostPath}:/usr/sbin:/usr/bin:/sbin:/bin`;
  const [zstd, mknod, setfattr, getfattr] = await Promise.all(
    ['zstd', 'mknod', 'setfattr', 'getfattr'].map((n) => findOnPath(n, searchPath)),
  );
  const tools: HostLayerTools = {};
  if (zstd) tools.zstd = zstdCodec(zstd, searchPath);
  if (mknod) tools.mknod = mknodTool(mknod);
  if (setfattr && getfattr) tools.xattrs = attrTool(setfattr, getfattr);
  return tools;
}
