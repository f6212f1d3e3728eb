/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): the functions with the most self time, the
 * most inclusive time, and self time per source file.
 *
 *   BENCH_RUNS=1 BENCH_PROFILE=/tmp/prof npm run bench -- copy-many
 *   node out/bench/bench/profile-top.js /tmp/prof [TOP]
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `name file:line`, with the repository path shortened. */
function keyOf(f: CallFrame): string {
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
}

function fileOf(f: CallFrame): string {
  if (!f.url) return f.functionName; // (garbage collector), (program), (idle)
  return f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
}

async function profilesIn(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path)).filter((n) => n.endsWith('.cpuprofile')).map((n) => join(path, n));
}

function table(title: string, totals: Map<string, number>, allMs: number, top: number): string {
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
  return (
    `${title}\n` +
    rows
      .map(([k, ms]) => `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / allMs).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n') +
    '\n'
  );
}

async function summarise(file: string, top: number): Promise<string> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  let allMs = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    allMs += ms;
    const node = byId.get(id);
    if (!node) return;
    const k = keyOf(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + ms);
    const f = fileOf(node.callFrame);
    files.set(f, (files.get(f) ?? 0) + ms);
    // Each function once per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || n.callFrame.functionName === '(root)') continue;
      const key = keyOf(n.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  });
  return [
    `${file}: ${(allMs / 1000).toFixed(2)} s sampled`,
    table('top self time', self, allMs, top),
    table('top inclusive time', inclusive, allMs, top),
    table('self time by file', files, allMs, top),
  ].join('\n');
}

async function main(): Promise<void> {
  const [path, topArg] = process.argv.slice(2);
  if (!path) throw new Error('usage: profile-top.js PROFILE.cpuprofile|DIR [TOP]');
  for (const file of await profilesIn(path)) process.stdout.write((await summarise(file, Number(topArg ?? 25))) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
