/**
 * A writer process for the shared-layout test (issue 15: two builds sharing `--cache-repo
 * oci:DIR`): puts `count` cache entries named `PREFIX i` into the OCI layout DIR, each with a
 * layer of its own and one shared by every writer. Run with vite-node:
 * `vite-node test/support/layout-writer.ts DIR PREFIX COUNT`.
 */
import { ociLayoutLayerCache } from '../../src/image/oci-layout-layer-cache.js';
import { newEntry } from './cache-entries.js';

const [dir, prefix, count] = process.argv.slice(2);
if (dir === undefined || prefix === undefined || count === undefined) throw new Error('usage: DIR PREFIX COUNT');
const cache = ociLayoutLayerCache({ dir });
const signal = new AbortController().signal;
for (let i = 0; i < Number(count); i++) {
  await cache.put(newEntry(`${prefix} ${i}`), signal);
  await cache.put(newEntry(`${prefix} ${i} shared`, { content: 'the same layer in every writer\n' }), signal);
}
