// Bundles the compiled CLI (dist/) into dist/bundle/: one ES module for the executor and one for
// the snapshot listing worker, with every npm dependency inside, and chunks (dist/bundle/chunks/)
// for what the executor loads with import() only when a build needs it. bin/executor loads it, and Kiln's
// own image (images/Dockerfile) ships it under /kaniko/lib without node_modules. One file instead
// of ~300 modules to resolve and read saves about 0.1 s of every start.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'dist', 'bundle');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  // The listing pool starts its workers from `new URL('./listing-worker.js', import.meta.url)`:
  // both bundles sit side by side, so that URL holds.
  entryPoints: {
    executor: join(repo, 'dist', 'cli', 'main.js'),
    'listing-worker': join(repo, 'dist', 'snapshot', 'listing-worker.js'),
  },
  outdir: out,
  bundle: true,
  // The cloud SDKs (issue 14) are loaded with import() only when a build names a bucket context
  // or a built-in credential helper: splitting keeps them in chunks of their own, so that
  // `executor version` and a local build parse none of them.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (commander, dockerfile-ast) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as kilnCreateRequire } from 'node:module'; const require = kilnCreateRequire(import.meta.url);",
  },
  legalComments: 'linked',
  logLevel: 'warning',
});
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
