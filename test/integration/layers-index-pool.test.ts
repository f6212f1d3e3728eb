/**
 * Issue 6: big trees are indexed on worker threads (the compiled `listing-worker.js`; run
 * `npm run build` first). The index must be the very one the calling thread makes: same paths,
 * same facts, same order.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Rootfs } from '../../src/rootfs/rootfs.js';
import { indexRootfs } from '../../src/snapshot/file-index.js';
import { ListingPool } from '../../src/snapshot/listing-pool.js';
import { REPO } from '../support/executor.js';

let dir: string;
let pool: ListingPool | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-pool-'));
  for (let d = 0; d < 40; d++) {
    const sub = join(dir, 'usr', `pkg${d % 7}`, `d${d}`, 'deep');
    await mkdir(sub, { recursive: true });
    await Promise.all(Array.from({ length: 200 }, (_, f) => writeFile(join(sub, `f${f}`), `${d}/${f}`)));
    await symlink(`../deep/f${d}`, join(sub, '..', `link${d}`));
    // A name and a link target that are not UTF-8 (issue 11): bytes cross the thread boundary intact.
    await writeFile(Buffer.from(`${sub}/bad\xff`, 'latin1'), 'raw');
    await symlink(Buffer.from('bad\xff', 'latin1'), Buffer.from(`${sub}/raw-link\xfe`, 'latin1'));
  }
  await mkdir(join(dir, 'var', 'run'), { recursive: true });
  await writeFile(join(dir, 'var', 'run', 'pid'), '1');
  await writeFile(join(dir, 'naïve-Ω'), 'x');
  pool = ListingPool.create(4, new URL('dist/snapshot/listing-worker.js', `file://${REPO}/`));
});
afterAll(async () => {
  await pool?.close();
  await rm(dir, { recursive: true, force: true });
});

// One core: no pool is made, and the calling thread indexes (covered by the unit tests).
test.skipIf(availableParallelism() < 2)(
  'worker threads index a big tree exactly as the calling thread does',
  async () => {
    if (!pool) throw new Error('no pool: dist/ is not built (npm run build)');
    const rootfs = new Rootfs(dir);
    const ignore = ['/var/run'];
    const inline = await indexRootfs(rootfs, { ignore });
    const pooled = await indexRootfs(rootfs, { ignore, pool });
    expect(inline.size).toBeGreaterThan(8000);
    expect([...pooled]).toEqual([...inline]);
    expect(pooled.has('/var/run')).toBe(false);
    expect(pooled.get('/usr/pkg0/d7/link7')).toMatchObject({ type: 'symlink', linkTarget: '../deep/f7' });
    for (const d of [0, 39]) {
      expect(pooled.get(`/usr/pkg${d % 7}/d${d}/deep/bad\udcff`)).toMatchObject({ type: 'file', size: 3 });
      expect(pooled.get(`/usr/pkg${d % 7}/d${d}/deep/raw-link\udcfe`)).toMatchObject({
        type: 'symlink',
        linkTarget: 'bad\udcff',
      });
    }
    // A subtree, as pathsChanged() asks for one.
    expect([...(await indexRootfs(rootfs, { start: '/usr/pkg1', pool }))]).toEqual(
      [...inline].filter(([p]) => p === '/usr/pkg1' || p.startsWith('/usr/pkg1/')),
    );
  },
);
