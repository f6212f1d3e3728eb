/**
 * The one error boundary and the only `process.exit`: parses the command line, runs the build
 * with a BuildEnv made from the real process, and maps errors to exit codes.
 */
import { homedir, tmpdir } from 'node:os';
import { CommanderError } from 'commander';
import { parseBuildOptions } from '../config/options.js';
import { InterruptedError, UsageError } from '../errors.js';
import { build } from '../executor/build.js';
import { createLogger, type LogFormat } from '../log.js';
import { platformOfNode } from '../oci/platform.js';
import { parseCommandLine, type Action } from './program.js';
import { reportError, reportResult, type Streams } from './output.js';
import { VERSION } from './version.js';

/** Runs the executor with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Streams, signal: AbortSignal): Promise<number> {
  let format: LogFormat = 'text';
  try {
    let action: Action | undefined;
    try {
      action = await parseCommandLine(argv, io);
    } catch (err) {
      if (err instanceof CommanderError) {
        if (err.exitCode === 0) return 0; // --help, --version
        throw new UsageError(err.message.replace(/^error: /, ''), {
          hint: 'run `executor --help` for the list of flags',
        });
      }
      throw err;
    }
    if (!action) return 0;
    if (action.kind === 'version') {
      io.out(`Kiln version v${VERSION}\n`);
      return 0;
    }
    const env = process.env;
    format = action.logFormatGiven ? (action.raw.logFormat ?? 'color') : process.stderr.isTTY ? 'color' : 'text';
    const options = parseBuildOptions({ ...action.raw, logFormat: format }, env);
    const logger = createLogger({
      level: options.verbosity,
      format,
      timestamps: options.logTimestamp,
      write: io.err,
      now: () => new Date(),
    });
    for (const warning of action.warnings) logger.warn(warning);
    const result = await build({
      options,
      logger,
      now: () => new Date(),
      env,
      cwd: process.cwd(),
      homeDir: homedir(),
      tmpDir: env.TMPDIR || tmpdir(),
      signal,
      hostPlatform: platformOfNode(process.platform, process.arch),
      stepOutput: (chunk) => io.out(chunk.toString()),
      version: VERSION,
      // A getter: Node opens its stdin handle on first access, and only tar://stdin reads it.
      get stdin() {
        return process.stdin;
      },
    });
    reportResult(result.digest, io);
    return 0;
  } catch (err) {
    if (signal.aborted && signal.reason instanceof InterruptedError) return reportError(signal.reason, format, io);
    return reportError(err, format, io);
  }
}

/** Entry point of bin/executor. */
export async function run(): Promise<void> {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => controller.abort(new InterruptedError(sig)));
  }
  const io: Streams = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
  const code = await main(process.argv.slice(2), io, controller.signal);
  // Let stdout/stderr drain before leaving (they are pipes in CI and pods).
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
