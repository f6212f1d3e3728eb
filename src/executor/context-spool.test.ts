import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, expect, test } from 'vitest';
import { spool } from './context-spool.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function contextDir(): Promise<{ base: string; into: string }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-spool-'));
  dirs.push(base);
  return { base, into: join(base, 'kiln-context-x') };
}

/** A source of `n` chunks that says when it has been read to its end. */
function source(n: number, fail?: Error): Readable & { drained: Promise<void> } {
  let i = 0;
  let drained!: () => void;
  const done = new Promise<void>((r) => (drained = r));
  const r = new Readable({
    read() {
      if (i < n) this.push(`chunk ${i++}\n`);
      else if (fail) this.destroy(fail);
      else {
        this.push(null);
        drained();
      }
    },
  });
  return Object.assign(r, { drained: done });
}

test('the source is read to its end while nothing reads the spool: a server never sees a slow reader', async () => {
  const { base, into } = await contextDir();
  const src = source(5000);
  const out = await spool(src, into);
  await src.drained; // nobody has read `out` yet
  const got = await text(out);
  expect(got.split('\n').length - 1).toBe(5000);
  expect(got.startsWith('chunk 0\nchunk 1\n')).toBe(true);
  // The spool file was unlinked when opened: nothing is left beside the context directory.
  expect(await readdir(base)).toEqual([]);
});

test('an error of the source reaches the reader after the bytes before it; destroying the reader stops the source', async () => {
  const { into } = await contextDir();
  const out = await spool(source(3, new Error('other side closed')), into);
  await expect(text(out)).rejects.toThrow('other side closed');

  const endless = new Readable({
    read() {
      this.push('x'.repeat(1024));
    },
  });
  const reader = await spool(endless, into);
  reader.destroy();
  await new Promise((r) => reader.once('close', r));
  expect(endless.destroyed).toBe(true);
});
