/**
 * DESIGN.md §2's import rules, read from the sources: imports go downward only, pure folders
 * touch no I/O, and each library has one home.
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

interface Import { file: string; folder: string; target: string }

const files = sources(SRC);
const imports: Import[] = files.flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const folder = relative(SRC, dirname(file)).split('/')[0] || '.';
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => {
    const spec = m[1] ?? '';
    const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)).split('/')[0] ?? '' : spec;
    return { file: relative(REPO, file), folder, target: target.endsWith('.js') ? '.' : target };
  });
});

const PURE = ['oci', 'dockerfile', 'plan', 'config'];
const IO_MODULES = ['fs', 'node:fs', 'node:fs/promises', 'fs/promises', 'net', 'node:net', 'child_process', 'node:child_process', 'undici', 'tar-stream', 'commander'];

/** Which project folders each folder may import (besides itself and errors.ts/log.ts at the top). */
const ALLOWED: Record<string, string[]> = {
  cli: ['config', 'executor', 'oci', 'log.ts', 'errors.ts'],
  executor: ['commands', 'registry', 'cache', 'rootfs', 'context', 'layers', 'snapshot', 'exec', 'image', 'stream', 'oci', 'dockerfile', 'plan', 'config'],
  commands: ['registry', 'cache', 'rootfs', 'context', 'layers', 'snapshot', 'exec', 'image', 'stream', 'oci', 'dockerfile', 'plan', 'config'],
  image: ['registry', 'cache', 'layers', 'stream', 'oci'],
  layers: ['rootfs', 'cache', 'stream', 'oci', 'snapshot'],
  snapshot: ['rootfs', 'oci'],
  registry: ['stream', 'oci'],
  cache: ['stream', 'oci'],
  rootfs: ['oci'],
  context: ['oci'],
  exec: ['rootfs', 'oci'],
  stream: ['oci'],
  plan: ['dockerfile', 'oci', 'config'],
  config: ['oci'],
  dockerfile: [],
  oci: [],
};

/** The one home of each library (DESIGN.md §2); child_process also for registry credential helpers. */
const HOMES: Record<string, string[]> = {
  'dockerfile-ast': ['src/dockerfile/parse.ts'],
  undici: ['src/registry/'],
  'tar-stream': ['src/layers/'],
  commander: ['src/cli/'],
  'node:child_process': ['src/exec/', 'src/registry/credential-helper.ts'],
};

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
