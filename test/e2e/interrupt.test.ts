/**
 * Issue 7: SIGTERM (and SIGINT) during a long RUN. The executor exits 143 (130) within 2 s with a
 * one-line message, leaves no process of the step behind, and pushes no manifest — in the
 * isolation the host picks (namespaces, as root here) and in chroot mode (the executor run
 * without CAP_SYS_ADMIN, under `capsh --drop=cap_sys_admin`).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO, tempDir, WITHOUT_SYS_ADMIN } from '../support/executor.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();

/** How long the executor may take from the signal to its exit. */
const EXIT_WITHIN_MS = 2000;

type Mode = 'host' | 'chroot';

/** A running executor whose output is watched as it streams. */
interface Running {
  pid: number;
  /** Resolves when `stream` has contained `text`; rejects when the executor exits first or after `timeoutMs`. */
  waitFor(stream: 'stdout' | 'stderr', text: string, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code (null: killed by a signal) once the process is gone and its pipes are closed. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** The exit code once exited (null: killed by a signal); undefined while running. */
  exitCode(): number | null | undefined;
}

/**
 * Spawns `node bin/executor args…` (signalled while it runs, so not through runExecutor); with
 * mode "chroot" under {@link WITHOUT_SYS_ADMIN}, so Kiln picks chroot isolation.
 */
function startExecutor(mode: Mode, args: string[]): Running {
  const node = [process.execPath, join(REPO, 'bin', 'executor'), ...args];
  const [cmd = '', ...argv] = mode === 'chroot' ? [...WITHOUT_SYS_ADMIN, ...node] : node;
  const child = spawn(cmd, argv, {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  const notify = (): void => watchers.forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    notify();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  let gone = false;
  let code: number | null | undefined;
  void exited
    .then((c) => {
      gone = true;
      code = c;
      notify();
    })
    .catch(() => undefined);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  return {
    pid: child.pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    exitCode: () => code,
    waitFor: (stream, text, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if ((stream === 'stdout' ? out : err).includes(text)) finish(resolve);
          else if (gone)
            finish(() => reject(new Error(`the executor exited before printing ${JSON.stringify(text)}:\n${err}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms:\n${err}`))),
          timeoutMs,
        );
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          watchers.delete(check);
          f();
        };
        watchers.add(check);
        check();
      }),
  };
}

/** The executor's exit code, or 'hung' when it has not exited within `ms`. */
async function exitWithin(r: Running, ms: number): Promise<number | null | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    return await Promise.race([r.exited, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** A process on this machine whose command line names one of a test's markers. */
interface Marked {
  pid: number;
  words: string[];
}

/** Processes whose cmdline holds one of `markers` as a number (zombies have an empty cmdline and do not count). */
async function markedProcesses(markers: readonly number[]): Promise<Marked[]> {
  const found: Marked[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const words = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0').filter((w) => w !== '');
    if (markers.some((m) => words.some((w) => new RegExp(`(^|\\D)${m}(\\D|$)`).test(w))))
      found.push({ pid: Number(name), words });
  }
  return found;
}

/** Polls up to `ms` until a `sleep N` runs for every N of `markers`; resolves with the ones that never showed. */
async function missingSleepers(markers: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const running = await markedProcesses(markers);
    const missing = markers.filter(
      (m) => !running.some((p) => p.words.length === 2 && p.words[0] === 'sleep' && p.words[1] === String(m)),
    );
    if (missing.length === 0 || Date.now() >= deadline) return missing;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls up to `ms` for the marked processes to disappear (the kernel reaps asynchronously); returns `PID: cmdline` of the survivors. */
async function survivorsAfter(markers: readonly number[], ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = await markedProcesses(markers);
    if (alive.length === 0 || Date.now() >= deadline) return alive.map((p) => `${p.pid}: ${p.words.join(' ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Status of a registry request for `path` (HEAD or GET) and, for GET, the body. */
async function registryGet(path: string, method: 'HEAD' | 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${env.reg.host}${path}`, {
    method,
    headers: {
      Accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json',
    },
  });
  return { status: res.status, body: method === 'GET' ? await res.text() : '' };
}

/** Asserts that `repo:tag` has no manifest in the test registry, by tag and in the tag list. */
async function expectNoManifest(repo: string, tag: string): Promise<void> {
  for (const method of ['HEAD', 'GET'] as const) {
    expect((await registryGet(`/v2/${repo}/manifests/${tag}`, method)).status, `${method} manifest`).toBe(404);
  }
  const tags = await registryGet(`/v2/${repo}/tags/list`, 'GET');
  // 404 NAME_UNKNOWN when nothing at all reached the repository; 200 without the tag when blobs did.
  if (tags.status === 200) expect((JSON.parse(tags.body) as { tags?: string[] | null }).tags ?? []).not.toContain(tag);
  else expect(tags.status, tags.body).toBe(404);
}

/** Distinct random `sleep` durations, so neither other tests nor earlier runs can be mistaken for this one's processes. */
function markers(n: number): number[] {
  const set = new Set<number>();
  while (set.size < n) set.add(randomInt(100_000, 999_999));
  return [...set];
}

interface Interrupted {
  code: number | null;
  elapsedMs: number;
  stderr: string;
  stdout: string;
  /** `PID: cmdline` of every marked process still alive a second after the exit (they are killed afterwards). */
  survivors: string[];
}

interface InterruptCase {
  mode: Mode;
  /** The second RUN of the Dockerfile. */
  script: string;
  /** What to wait for before signalling. */
  when: { stream: 'stdout' | 'stderr'; text: string };
  /** Every marker the script uses (for the leftover scan). */
  marks: readonly number[];
  /** Markers whose `sleep` must be running when the signal is sent: proof the step's children were up. */
  running: readonly number[];
  dest: string;
  signal: 'SIGTERM' | 'SIGINT';
}

/**
 * Builds a Dockerfile whose second RUN is `c.script`, waits for `c.when` and for the `c.running`
 * sleeps, sends `c.signal`, and reports how the executor ended. Whatever outlived it is killed
 * before returning, so a failure here leaves nothing running on the machine.
 */
async function interruptRun(c: InterruptCase): Promise<Interrupted> {
  const ctx = await tempDir('interrupt');
  await writeFile(
    join(ctx, 'Dockerfile'),
    `FROM ${env.base.ref}\nRUN echo before > /before.txt\nRUN ${c.script}\nRUN echo never > /never.txt\n`,
  );
  const r = startExecutor(c.mode, [
    '--context',
    `dir://${ctx}`,
    '--destination',
    c.dest,
    '--insecure',
    '--insecure-pull',
  ]);
  try {
    await r.waitFor(c.when.stream, c.when.text, 60_000);
    const missing = await missingSleepers(c.running, 2000);
    if (missing.length > 0)
      throw new Error(
        `the step's children ${missing.map((m) => `sleep ${m}`).join(', ')} never ran:\n${r.stdout()}\n${r.stderr()}`,
      );
  } catch (err) {
    process.kill(r.pid, 'SIGKILL');
    await r.exited;
    await killAll(c.marks);
    throw err;
  }
  const sent = performance.now();
  process.kill(r.pid, c.signal);
  const code = await exitWithin(r, 10_000);
  const elapsedMs = performance.now() - sent;
  if (code === 'hung') {
    process.kill(r.pid, 'SIGKILL');
    await r.exited;
  }
  const survivors = await survivorsAfter(c.marks, 1000);
  await killAll(c.marks);
  const stderr = r.stderr() + (code === 'hung' ? '\n[test: no exit within 10 s of the signal; killed]\n' : '');
  return { code: code === 'hung' ? null : code, elapsedMs, stderr, stdout: r.stdout(), survivors };
}

/** SIGKILLs the marked processes a failed run left behind, by their ids. */
async function killAll(marks: readonly number[]): Promise<void> {
  for (const p of await markedProcesses(marks)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** The one line an interrupted build ends with, and nothing that looks like a crash. */
function expectOneLineMessage(stderr: string, signal: 'SIGTERM' | 'SIGINT'): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines.at(-1), stderr).toBe(`error: build interrupted by ${signal}`);
  expect(
    lines.filter((l) => /^(error|hint):/.test(l)),
    stderr,
  ).toHaveLength(1);
  expect(stderr).not.toMatch(/internal error|^\s+at /m);
}

/**
 * What every interrupted build must show: exit 128+signal within {@link EXIT_WITHIN_MS}, one line
 * naming the signal, none of the step's processes left, and no manifest under the tag.
 */
async function expectStoppedCleanly(
  got: Interrupted,
  signal: 'SIGTERM' | 'SIGINT',
  repo: string,
  tag: string,
): Promise<void> {
  expect(got.code, got.stderr).toBe(signal === 'SIGTERM' ? 143 : 130);
  expect(got.elapsedMs, got.stderr).toBeLessThan(EXIT_WITHIN_MS);
  expectOneLineMessage(got.stderr, signal);
  expect(got.survivors).toEqual([]);
  await expectNoManifest(repo, tag);
}

/**
 * The line a script prints once its background children are started, and the shell words that
 * print it: split by quotes, so the Dockerfile's text (which Kiln logs) never contains the line.
 */
function startedLine(mark: number): { text: string; echo: string } {
  return { text: `kiln-started-${mark}`, echo: `echo kiln-"started"-${mark}` };
}

describe.each(['host', 'chroot'] as const)('SIGTERM during a long RUN (%s isolation)', (mode) => {
  const isolation = mode === 'chroot' ? 'RUN isolation: chroot' : 'RUN isolation: namespaces';

  test('exits 143 within 2 s, kills the step and its background children, pushes no manifest', async () => {
    const [a = 0, b = 0, c = 0] = markers(3);
    const started = startedLine(a);
    const tag = `t${a}`;
    const repo = `e2e/interrupt-${mode}`;
    const script = `sh -c 'sleep ${a} & sleep ${b} & ${started.echo}; sleep ${c}'`;
    const got = await interruptRun({
      mode,
      script,
      when: { stream: 'stdout', text: started.text },
      marks: [a, b, c],
      running: [a, b, c],
      dest: `${env.reg.host}/${repo}:${tag}`,
      signal: 'SIGTERM',
    });

    expect(got.stderr).toContain(isolation);
    expect(got.stdout).not.toMatch(/^sha256:/m);
    expect(got.stderr).not.toContain('echo never');
    await expectStoppedCleanly(got, 'SIGTERM', repo, tag);
  });

  test('also kills children that left the process group and session (setsid, double fork)', async () => {
    const [a = 0, b = 0, c = 0] = markers(3);
    const started = startedLine(a);
    const tag = `t${a}`;
    const repo = `e2e/interrupt-setsid-${mode}`;
    // `setsid sleep` gets a session (and process group) of its own; `( … & )` orphans its sleep at once.
    const script = `setsid sleep ${a} & (sleep ${b} &) ; ${started.echo}; sleep ${c}`;
    const got = await interruptRun({
      mode,
      script,
      when: { stream: 'stdout', text: started.text },
      marks: [a, b, c],
      running: [a, b, c],
      dest: `${env.reg.host}/${repo}:${tag}`,
      signal: 'SIGTERM',
    });

    expect(got.stderr).toContain(isolation);
    await expectStoppedCleanly(got, 'SIGTERM', repo, tag);
  });

  test('a signal while the RUN is being set up (before or as its process starts) is not lost', async () => {
    const [a = 0, b = 0] = markers(2);
    const tag = `t${a}`;
    const repo = `e2e/interrupt-early-${mode}`;
    const script = `sleep ${a} & sleep ${b}`;
    // Kiln logs the step just before it prepares mount points and spawns it: signal right then.
    const got = await interruptRun({
      mode,
      script,
      when: { stream: 'stderr', text: `RUN ${script}` },
      marks: [a, b],
      running: [],
      dest: `${env.reg.host}/${repo}:${tag}`,
      signal: 'SIGTERM',
    });

    await expectStoppedCleanly(got, 'SIGTERM', repo, tag);
  });
});

test('SIGINT during a long RUN exits 130 with one line and leaves nothing behind', async () => {
  const [a = 0, b = 0] = markers(2);
  const started = startedLine(a);
  const tag = `t${a}`;
  const repo = 'e2e/interrupt-sigint';
  const script = `sleep ${a} & ${started.echo}; sleep ${b}`;
  const got = await interruptRun({
    mode: 'host',
    script,
    when: { stream: 'stdout', text: started.text },
    marks: [a, b],
    running: [a, b],
    dest: `${env.reg.host}/${repo}:${tag}`,
    signal: 'SIGINT',
  });

  await expectStoppedCleanly(got, 'SIGINT', repo, tag);
});

describe.each(['host', 'chroot'] as const)('a RUN that ends with children still running (%s isolation)', (mode) => {
  test('they are killed when it ends, even outside its process group, and the build goes on', async () => {
    const [a = 0, b = 0, c = 0] = markers(3);
    const started = startedLine(a);
    const ctx = await tempDir('leftovers');
    // The step waits on a fifo until the test has seen its three children running, then ends
    // with them still there; the test opens the fifo through a child's /proc/PID/root.
    const script = `mkfifo /tmp/go-${a}; sleep ${a} & setsid sleep ${b} & (sleep ${c} &) ; ${started.echo}; read x < /tmp/go-${a}; rm /tmp/go-${a}`;
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${env.base.ref}\nRUN ${script}\nRUN echo next > /next.txt\n`);
    const r = startExecutor(mode, ['--context', `dir://${ctx}`, '--no-push', '--insecure-pull']);
    try {
      await r.waitFor('stdout', started.text, 60_000);
      expect(await missingSleepers([a, b, c], 2000), r.stderr()).toEqual([]);
      const child = (await markedProcesses([a])).find((p) => p.words[0] === 'sleep');
      if (!child) throw new Error(`sleep ${a} is gone`);
      await writeFile(`/proc/${child.pid}/root/tmp/go-${a}`, 'go\n');
      const code = await exitWithin(r, 30_000);
      expect(code, r.stderr()).toBe(0);
      expect(await survivorsAfter([a, b, c], 1000)).toEqual([]);
    } finally {
      if (r.exitCode() === undefined) process.kill(r.pid, 'SIGKILL');
      await killAll([a, b, c]);
    }
  });
});
