/**
 * Worker threads that list directories for a file index (see `rootfs/list-dir.ts`), so that a
 * big rootfs is scanned on every core: an lstat is cheap, but 100,000 of them on one thread
 * take most of a second. Listings come back with their numbers in transferred buffers.
 * Without the compiled worker script (under a TypeScript test runner) there is no pool, and
 * indexing runs on the calling thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FilesystemError } from '../errors.js';
import type { DirListing } from '../rootfs/list-dir.js';

/** A directory to list. */
export interface DirRef {
  host: string;
  image: string;
}

/** What a worker answers. */
export type ListingReply = { id: number; listings: DirListing[] } | { id: number; error: { message: string } };

interface Job {
  resolve: (l: DirListing[]) => void;
  reject: (e: unknown) => void;
}

/** A fixed set of listing workers; jobs go to idle ones. */
export class ListingPool {
  private readonly idle: Worker[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;

  private constructor(private readonly workers: Worker[]) {
    this.idle.push(...workers);
    for (const w of workers) {
      w.on('message', (reply: ListingReply) => {
        const job = this.jobs.get(reply.id);
        this.jobs.delete(reply.id);
        this.idle.push(w);
        w.unref();
        if (!job) return;
        if ('error' in reply) job.reject(new FilesystemError(reply.error.message));
        else job.resolve(reply.listings);
      });
      w.on('error', (err) => {
        for (const job of this.jobs.values()) job.reject(err);
        this.jobs.clear();
      });
      // Idle workers never keep the process alive (unref after the listeners: adding one refs
      // the worker again); a worker with a job does, until it answers.
      w.unref();
    }
  }

  /**
   * A pool of one worker per core beyond the first (at most `max`), or undefined on a single
   * core or when the worker script is not there (`script` defaults to the compiled one beside this module).
   */
  static create(max = 4, script: URL = new URL('./listing-worker.js', import.meta.url)): ListingPool | undefined {
    const size = Math.min(max, availableParallelism());
    if (size < 2 || script.protocol !== 'file:' || !existsSync(fileURLToPath(script))) return undefined;
    return new ListingPool(Array.from({ length: size }, () => new Worker(script)));
  }

  /** How many workers are free for a job now. */
  get free(): number {
    return this.idle.length;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Lists `dirs` on an idle worker (the caller checks {@link free} first). */
  list(dirs: DirRef[], ignore: readonly string[]): Promise<DirListing[]> {
    const worker = this.idle.pop();
    if (!worker) return Promise.reject(new Error('ListingPool.list called with no idle worker'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, dirs, ignore: [...ignore] });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
