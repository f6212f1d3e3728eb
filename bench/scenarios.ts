/**
 * The bench scenarios. Each writes its Dockerfile and build context into a fresh directory at run
 * time (nothing large is committed) and returns the build args (`BASE`, the image to build FROM).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { TestRegistry } from '../test/support/registry.js';
import { S3RVER_KEY, startS3rver } from '../test/support/cloud-stores.js';
import { pushLargeBase } from './large-base.js';

export interface PrepareEnv {
  registry: TestRegistry;
  /** Reference of the busybox base in the bench registry. */
  busybox: string;
  /** A directory the scenario may use for scratch files (removed after the scenario). */
  scratch: string;
}

/** Where Kiln reads a scenario's context from when it is not the directory itself (issue 14). */
export interface KilnContext {
  /** The `--context` value (`tar://…`, `s3://…`). */
  context: string;
  /** Variables Kiln's runs get besides the bench's own environment. */
  env?: Record<string, string>;
  /** Stops what serves the context, after the scenario. */
  stop?(): Promise<void>;
}

export interface Scenario {
  name: string;
  what: string;
  /** Writes `dir/Dockerfile` and the context into `dir`; resolves to the build args. */
  prepare(dir: string, env: PrepareEnv): Promise<Record<string, string>>;
  /** Kiln's context made from the prepared `dir` (Buildah always builds the directory). */
  kilnContext?(dir: string, env: PrepareEnv): Promise<KilnContext>;
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

function copyMany(name: string, what: string, kilnContext?: Scenario['kilnContext']): Scenario {
  return {
    name,
    what,
    async prepare(dir, env) {
      await writeManySmall(join(dir, 'files'));
      await writeFile(join(dir, 'Dockerfile'), dockerfile(['COPY files /data/']));
      return { BASE: env.busybox };
    },
    ...(kilnContext ? { kilnContext } : {}),
  };
}

/** `dir` as a gzipped tarball in `scratch` (GNU tar, as a CI job would make it). */
async function contextTarball(dir: string, scratch: string): Promise<string> {
  await mkdir(scratch, { recursive: true });
  const out = join(scratch, 'ctx.tar.gz');
  const r = spawnSync('tar', ['-czf', out, '-C', dir, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`tar -czf ${out}: ${r.stderr.toString()}`);
  return out;
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
  copyMany('copy-many', 'COPY of 20,000 small files in nested directories'),
  // Issue 14: the same build with the context fetched; compare Kiln's time with copy-many's.
  copyMany('copy-many-tar', 'copy-many, Kiln reading the context from a tar.gz (tar://)', async (dir, env) => ({
    context: `tar://${await contextTarball(dir, env.scratch)}`,
  })),
  copyMany('copy-many-s3', 'copy-many, Kiln reading the context from s3rver (s3://, S3_ENDPOINT)', async (dir, env) => {
    const tarball = await contextTarball(dir, env.scratch);
    const store = await startS3rver(join(env.scratch, 's3rver'), 'bench', {
      'ctx.tar.gz': await readFile(tarball),
    });
    return {
      context: 's3://bench/ctx.tar.gz',
      env: {
        S3_ENDPOINT: `http://127.0.0.1:${store.port}`,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: S3RVER_KEY.id,
        AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret,
      },
      stop: () => store.stop(),
    };
  }),
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
