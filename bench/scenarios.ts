/**
 * The bench scenarios. Each writes its Dockerfile and build context into a fresh directory at run
 * time (nothing large is committed) and returns the build args (`BASE`, the image to build FROM).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { TestRegistry } from '../test/support/registry.js';
import { pushLargeBase } from './large-base.js';

export interface PrepareEnv {
  registry: TestRegistry;
  /** Reference of the busybox base in the bench registry. */
  busybox: string;
  /** A directory the scenario may use for scratch files (removed after the scenario). */
  scratch: string;
}

export interface Scenario {
  name: string;
  what: string;
  /** Writes `dir/Dockerfile` and the context into `dir`; resolves to the build args. */
  prepare(dir: string, env: PrepareEnv): Promise<Record<string, string>>;
}

const MiB = 1024 * 1024;

/** Writes `bytes` of random (incompressible) data to `path` in 1 MiB chunks. */
async function writeRandom(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= MiB) {
    if (!out.write(randomBytes(Math.min(MiB, left)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** 20 × 20 × 50 = 20,000 small text files of 100 B to 2 KiB under `root`. */
async function writeManySmall(root: string): Promise<number> {
  let n = 0;
  for (let a = 0; a < 20; a++) {
    for (let b = 0; b < 20; b++) {
      const dir = join(root, `a${a}`, `b${b}`);
      await mkdir(dir, { recursive: true });
      const writes: Promise<void>[] = [];
      for (let c = 0; c < 50; c++, n++) {
        const line = `file ${a}/${b}/${c} number ${n}\n`;
        writes.push(writeFile(join(dir, `f${c}.txt`), line.repeat(3 + ((n * 7919) % 60))));
      }
      await Promise.all(writes);
    }
  }
  return n;
}

function dockerfile(lines: string[]): string {
  return ['ARG BASE', 'FROM ${BASE}', ...lines, ''].join('\n');
}

function copyBig(name: string, mib: number): Scenario {
  return {
    name,
    what: `COPY of one ${mib} MiB file of random data`,
    async prepare(dir, env) {
      await writeRandom(join(dir, 'big.bin'), mib * MiB);
      await writeFile(join(dir, 'Dockerfile'), dockerfile(['COPY big.bin /data/big.bin']));
      return { BASE: env.busybox };
    },
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'hello',
    what: 'FROM busybox, one RUN, ENTRYPOINT',
    async prepare(dir, env) {
      await writeFile(
        join(dir, 'Dockerfile'),
        dockerfile(['RUN echo hello > /hello.txt', 'ENTRYPOINT ["/bin/cat", "/hello.txt"]']),
      );
      return { BASE: env.busybox };
    },
  },
  {
    name: 'copy-many',
    what: 'COPY of 20,000 small files in nested directories',
    async prepare(dir, env) {
      await writeManySmall(join(dir, 'files'));
      await writeFile(join(dir, 'Dockerfile'), dockerfile(['COPY files /data/']));
      return { BASE: env.busybox };
    },
  },
  copyBig('copy-big', 512),
  copyBig('copy-big-256', 256),
  {
    name: 'run-churn',
    what: 'RUNs: create 5,000 files, delete 1,000, replace a dir by a file, chmod -R a tree',
    async prepare(dir, env) {
      await writeFile(
        join(dir, 'Dockerfile'),
        dockerfile([
          'RUN mkdir /churn && cd /churn && for d in $(seq 0 49); do mkdir d$d; done && ' +
            'i=0 && while [ $i -lt 5000 ]; do echo "file $i" > d$((i % 50))/f$i; i=$((i + 1)); done',
          'RUN cd /churn && i=0 && while [ $i -lt 5000 ]; do rm d$((i % 50))/f$i; i=$((i + 5)); done',
          'RUN rm -rf /churn/d49 && echo "now a file" > /churn/d49',
          'RUN chmod -R go-rwx /churn',
        ]),
      );
      return { BASE: env.busybox };
    },
  },
  {
    name: 'snapshot-large-rootfs',
    what: 'base of 100,000 files, then three small RUNs',
    async prepare(dir, env) {
      const base = await pushLargeBase(env.registry, env.scratch, 100_000);
      await writeFile(
        join(dir, 'Dockerfile'),
        dockerfile([
          'RUN echo one > /one.txt',
          'RUN mkdir -p /app && echo two > /app/two.txt',
          'RUN rm /usr/share/bench-data/d000/f000 && echo three > /usr/share/bench-data/d001/f001',
        ]),
      );
      return { BASE: base };
    },
  },
  {
    name: 'multistage',
    what: 'two build stages and a final stage with COPY --from',
    async prepare(dir, env) {
      await writeFile(
        join(dir, 'Dockerfile'),
        [
          'ARG BASE',
          'FROM ${BASE} AS one',
          'RUN mkdir /out && echo one > /out/one.txt',
          'FROM ${BASE} AS two',
          'RUN mkdir /out && seq 1 1000 > /out/two.txt',
          'FROM ${BASE}',
          'COPY --from=one /out/one.txt /one.txt',
          'COPY --from=two /out/two.txt /two.txt',
          '',
        ].join('\n'),
      );
      return { BASE: env.busybox };
    },
  },
];
