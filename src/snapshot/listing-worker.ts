/** The worker thread of {@link ListingPool}: lists the directories it is sent and sends the listings back. */
import { parentPort } from 'node:worker_threads';
import { listDir } from '../rootfs/list-dir.js';
import type { DirRef, ListingReply } from './listing-pool.js';

const port = parentPort;
port?.on('message', (job: { id: number; dirs: DirRef[]; ignore: string[] }) => {
  let reply: ListingReply;
  try {
    reply = { id: job.id, listings: job.dirs.map((d) => listDir(d.host, d.image, job.ignore)) };
  } catch (err) {
    // listDir's errors are FilesystemErrors saying what and where: the message is what matters.
    reply = { id: job.id, error: { message: err instanceof Error ? err.message : String(err) } };
  }
  port.postMessage(reply, 'listings' in reply ? reply.listings.map((l) => l.nums.buffer as ArrayBuffer) : []);
});
