/**
 * The import rules of ARCHITECTURE.md §3, read from the sources: imports go downward only, pure
 * folders touch no I/O, and each library has one home. The rules themselves are parsed from the
 * tables in ARCHITECTURE.md, so the document and this test cannot drift apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from '../support/executor.js';

const SRC = join(REPO, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

interface Import {
  file: string;
  folder: string;
  target: string;
}

const files = sources(SRC);
const imports: Import[] = files.flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const folder = relative(SRC, dirname(file)).split('/')[0] || '.';
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => {
    const spec = m[1] ?? '';
    const target = spec.startsWith('.') ? (relative(SRC, resolve(dirname(file), spec)).split('/')[0] ?? '') : spec;
    return { file: relative(REPO, file), folder, target: target.endsWith('.js') ? '.' : target };
  });
});

const IO_MODULES = [
  'fs',
  'node:fs',
  'node:fs/promises',
  'fs/promises',
  'net',
  'node:net',
  'child_process',
  'node:child_process',
  'undici',
  'tar-stream',
  'commander',
];

/**
 * The rows of the markdown table in ARCHITECTURE.md whose header row is exactly `header`, as
 * cells with backticks removed; a list cell ("`a`, `b`") is split by {@link names}.
 */
function markdownTable(doc: string, header: readonly string[]): string[][] {
  const lines = doc.split('\n');
  const cells = (line: string): string[] =>
    line
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim());
  const at = lines.findIndex((l) => l.trim().startsWith('|') && cells(l).join('|') === header.join('|'));
  if (at < 0) throw new Error(`ARCHITECTURE.md has no table with the header | ${header.join(' | ')} |`);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.trim().startsWith('|')) break;
    rows.push(cells(line));
  }
  return rows;
}

/** The backticked names in a table cell: "`a`, `b`" → ['a', 'b']. */
function names(cell: string | undefined): string[] {
  return [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

const ARCHITECTURE = readFileSync(join(REPO, 'ARCHITECTURE.md'), 'utf8');
const RULES = markdownTable(ARCHITECTURE, ['folder', 'kind', 'may import']);

/** Which project folders each folder may import (besides itself and errors.ts/log.ts at the top): ARCHITECTURE.md §3. */
const ALLOWED: Record<string, string[]> = Object.fromEntries(RULES.map((r) => [names(r[0])[0] ?? '', names(r[2])]));

/** The folders that touch no I/O: kind `pure` in the same table. */
const PURE = RULES.filter((r) => r[1] === 'pure').map((r) => names(r[0])[0] ?? '');

/** The one home of each library (ARCHITECTURE.md §3); child_process also for registry credential helpers. */
const HOMES: Record<string, string[]> = Object.fromEntries(
  markdownTable(ARCHITECTURE, ['library', 'imported only from']).map((r) => [names(r[0])[0] ?? '', names(r[1])]),
);

test('ARCHITECTURE.md §3 names every source folder and nothing else', () => {
  const folders = [
    ...new Set(
      files
        .map((f) => relative(SRC, f).split('/'))
        .filter((p) => p.length > 1)
        .map((p) => p[0] ?? ''),
    ),
  ].sort();
  expect(Object.keys(ALLOWED).sort()).toEqual(folders);
  for (const targets of Object.values(ALLOWED)) for (const t of targets) expect(folders).toContain(t);
  for (const p of PURE) expect(folders).toContain(p);
  expect(PURE.length).toBeGreaterThan(0);
  expect(Object.keys(HOMES).length).toBeGreaterThan(0);
});

test('the allowed imports of ARCHITECTURE.md §3 have no cycle', () => {
  const cycle = (from: string, seen: readonly string[]): string[] | undefined => {
    if (seen.includes(from)) return [...seen, from];
    for (const to of ALLOWED[from] ?? []) {
      const found = cycle(to, [...seen, from]);
      if (found) return found;
    }
    return undefined;
  };
  for (const folder of Object.keys(ALLOWED)) expect(cycle(folder, [])).toBeUndefined();
});

test('pure folders import no I/O modules', () => {
  const bad = imports.filter((i) => PURE.includes(i.folder) && IO_MODULES.includes(i.target));
  expect(bad).toEqual([]);
});

test('folders import only the folders below them', () => {
  const bad = imports.filter((i) => {
    if (i.target === '.' || i.target === i.folder || !ALLOWED[i.folder]) return false;
    if (!files.some((f) => relative(SRC, f).startsWith(`${i.target}/`) || relative(SRC, f) === i.target)) return false;
    if (i.target === 'errors.ts' || i.target === 'log.ts') return false;
    return !ALLOWED[i.folder]?.includes(i.target);
  });
  expect(bad).toEqual([]);
});

test('each library is imported only from its home', () => {
  const bad = imports.filter((i) => {
    const homes = HOMES[i.target === 'child_process' ? 'node:child_process' : i.target];
    return homes !== undefined && !homes.some((h) => i.file.startsWith(h));
  });
  expect(bad).toEqual([]);
});
