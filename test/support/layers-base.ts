/**
 * A "rich" base image for the layer round-trip tests: busybox, then a layer made by GNU tar with
 * the host's `setcap`/`getcap` and the shared libraries `ldd` lists (busybox has no setcap: this
 * is how a RUN sets a real file capability), a capability-carrying file, a setuid file, a
 * hardlink pair, a fifo and owned files; then a layer of whiteouts, an opaque directory and a
 * directory replaced by a file.
 */
import { chmod, chown, copyFile, link, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { makeBusyboxLayout } from './busybox.js';
import { gnuTarLayer, pushLayers } from './layer-images.js';
import type { TestRegistry } from './registry.js';
import { run } from './run.js';

/** Host programs copied into the base, with their libraries. */
const PROGRAMS = ['/usr/sbin/setcap', '/usr/sbin/getcap'];

/** Copies `hostPath` (symlinks resolved) to the same path under `stage`. */
async function copyIn(stage: string, hostPath: string): Promise<void> {
  await mkdir(join(stage, dirname(hostPath)), { recursive: true });
  await copyFile(await realpath(hostPath), join(stage, hostPath));
  await chmod(join(stage, hostPath), 0o755);
}

async function toolsLayer(stage: string): Promise<Buffer> {
  const libs = new Set<string>();
  for (const p of PROGRAMS) {
    await copyIn(stage, p);
    for (const m of (await run('ldd', [p])).toString().matchAll(/(\/\S+) \(0x/g)) if (m[1]) libs.add(m[1]);
  }
  for (const l of libs) await copyIn(stage, l);
  const opt = join(stage, 'opt');
  await mkdir(join(opt, 'gone'), { recursive: true });
  await mkdir(join(opt, 'opq'));
  await mkdir(join(opt, 'replace'));
  const files: [string, string][] = [
    ['plain', 'plain\n'],
    ['capped', 'capped\n'],
    ['capped2', 'capped later\n'],
    ['suid', 'suid\n'],
    ['h1', 'pair\n'],
    ['owned', 'owned\n'],
    ['gone/x', 'x'],
    ['opq/a', 'a'],
    ['opq/b', 'b'],
    ['replace/inner', 'i'],
  ];
  for (const [p, text] of files) await writeFile(join(opt, p), text);
  await link(join(opt, 'h1'), join(opt, 'h2'));
  await run('setcap', ['cap_net_raw+ep', join(opt, 'capped')]);
  await chmod(join(opt, 'suid'), 0o4755);
  await chown(join(opt, 'owned'), 1000, 1000);
  await chmod(join(opt, 'owned'), 0o640);
  await run('mkfifo', [join(opt, 'fifo')]);
  const top = ['lib', 'lib64', 'usr', 'opt'];
  const present = [];
  for (const t of top)
    if (
      await realpath(join(stage, t)).then(
        () => true,
        () => false,
      )
    )
      present.push(t);
  return gnuTarLayer(stage, present);
}

async function whiteoutLayer(stage: string): Promise<Buffer> {
  await mkdir(join(stage, 'opt', 'opq'), { recursive: true });
  await mkdir(join(stage, 'bin'));
  await mkdir(join(stage, 'etc'));
  await writeFile(join(stage, 'opt', '.wh.gone'), '');
  await writeFile(join(stage, 'opt', 'opq', '.wh..wh..opq'), '');
  await writeFile(join(stage, 'opt', 'opq', 'c'), 'c');
  await writeFile(join(stage, 'opt', 'replace'), 'a file now\n');
  await writeFile(join(stage, 'bin', '.wh.vi'), '');
  await writeFile(join(stage, 'etc', 'motd'), 'welcome\n');
  return gnuTarLayer(stage, ['opt/.wh.gone', 'opt/opq', 'opt/replace', 'bin/.wh.vi', 'etc/motd']);
}

/** Pushes the rich base as `base/rich:latest`; returns its reference. */
export async function pushRichBase(reg: TestRegistry): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'kiln-rich-base-'));
  try {
    const busybox = await makeBusyboxLayout(join(work, 'layout'));
    const layerDigest = busybox.layers[0] ?? '';
    const busyboxTar = gunzipSync(await readFile(join(work, 'layout', 'blobs', 'sha256', layerDigest.slice(7))));
    await mkdir(join(work, 'tools'));
    await mkdir(join(work, 'whiteouts'));
    return await pushLayers(reg, 'base/rich', 'latest', [
      busyboxTar,
      await toolsLayer(join(work, 'tools')),
      await whiteoutLayer(join(work, 'whiteouts')),
    ]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
