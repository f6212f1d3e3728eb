/**
 * A ProcessRunner that runs nothing: each RUN's command is looked up in a script, and the scripted
 * action changes the rootfs directly with the host's fs calls, as the command would have. Every
 * spec it gets is recorded, so tests can assert what RUN was asked (argv, env, cwd, user, mounts,
 * network). It needs no privileges, no namespaces and no programs in the rootfs.
 */
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IsolationMode, ProcessRunner, RunResult, RunSpec } from '../../src/exec/runner.js';

/** What a scripted action may do to the rootfs, with image paths. */
export interface FakeStep {
  readonly spec: RunSpec;
  /** A variable of the step's environment. */
  getenv(name: string): string | undefined;
  /** Host path of an image path. */
  host(path: string): string;
  write(path: string, content: string, mode?: number): Promise<void>;
  mkdir(path: string): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Sends output as the process would have printed it. */
  print(text: string): void;
}

/** A scripted command: changes the rootfs and returns its exit status (default 0). */
export type FakeAction = (step: FakeStep) => Promise<number | void> | number | void;

/**
 * The key a spec is scripted under: the command text of a shell-form RUN (`/bin/sh -c TEXT`, or
 * any shell's last word after `-c`/`-ec`…), else the argv joined with spaces.
 */
export function commandKey(argv: readonly string[]): string {
  const flag = argv[argv.length - 2];
  if (argv.length === 3 && flag !== undefined && /^-[a-z]*c$/.test(flag)) return argv[2] ?? '';
  return argv.join(' ');
}

function envMap(spec: RunSpec): Map<string, string> {
  return new Map(spec.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** A runner whose RUNs are the actions of `script`; an unscripted command exits 127. */
export class FakeRunner implements ProcessRunner {
  readonly reason = 'a scripted fake for in-process tests';
  readonly specs: RunSpec[] = [];

  constructor(
    private readonly script: Readonly<Record<string, FakeAction>> = {},
    readonly mode: IsolationMode = 'namespaces',
  ) {}

  async run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult> {
    signal?.throwIfAborted();
    this.specs.push(spec);
    const key = commandKey(spec.argv);
    const action = this.script[key];
    if (!action) {
      spec.onOutput(Buffer.from(`fake runner: ${key}: not scripted\n`));
      return { exitStatus: 127, signal: null };
    }
    const host = (path: string): string => join(spec.rootfs, path.startsWith('/') ? path : join(spec.cwd, path));
    const step: FakeStep = {
      spec,
      host,
      getenv: (name) => envMap(spec).get(name),
      async write(path, content, mode = 0o644) {
        await mkdir(dirname(host(path)), { recursive: true });
        await writeFile(host(path), content, { mode });
      },
      async mkdir(path) {
        await mkdir(host(path), { recursive: true });
      },
      async symlink(path, target) {
        await mkdir(dirname(host(path)), { recursive: true });
        await symlink(target, host(path));
      },
      async remove(path) {
        await rm(host(path), { recursive: true });
      },
      print(text) {
        spec.onOutput(Buffer.from(text));
      },
    };
    const status = await action(step);
    return { exitStatus: status ?? 0, signal: null };
  }

  /** The n-th spec run; fails the test when there were fewer. */
  spec(n: number): RunSpec {
    const spec = this.specs[n];
    if (!spec) throw new Error(`the fake runner ran ${this.specs.length} commands, not ${n + 1}`);
    return spec;
  }

  /** The environment the n-th RUN got, as a map. */
  envOf(n: number): Map<string, string> {
    return envMap(this.spec(n));
  }
}
