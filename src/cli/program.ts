/**
 * The executor's command line, with Kaniko's flag names and defaults (commander is imported
 * only in cli/). Parsing only: it produces raw option values and the action to run.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { RawOptions } from '../config/options.js';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { normaliseArgv, type FlagSpec } from './argv.js';
import { addLayerFlags } from './flags-layers.js';
import { addCacheFlags } from './flags-cache.js';
import { addRegistryFlags } from './flags-registry.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Kaniko's `--verbosity` as logrus.ParseLevel reads it: in any case, `warning` for `warn`. */
function logLevel(value: string): LogLevel {
  const lower = value.toLowerCase();
  const level = LOG_LEVELS.find((l) => l === (lower === 'warning' ? 'warn' : lower));
  if (!level) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')} (in any case)`);
  return level;
}

/** What {@link normaliseArgv} needs to know about the program's flags, read from commander's options. */
export function flagSpec(cmd: Command): FlagSpec {
  const takesValue = new Set<string>();
  const booleans = new Set<string>();
  const negatable = new Set<string>();
  const shorts = new Set<string>();
  for (const o of cmd.options) {
    const long = o.long?.replace(/^--/, '');
    const short = o.short?.replace(/^-/, '');
    if (short) shorts.add(short);
    if (o.negate && long) negatable.add(long.replace(/^no-/, ''));
    if (o.required) {
      if (long) takesValue.add(long);
      if (short) takesValue.add(short);
    } else if (!o.optional && long) booleans.add(long);
  }
  return { takesValue, booleans, negatable, shorts };
}

export type Action =
  { kind: 'build'; raw: RawOptions; logFormatGiven: boolean; warnings: string[] } | { kind: 'version' };

/** Builds the commander program; `onAction` receives what the command line asked for. */
export function buildProgram(
  onAction: (a: Action) => void,
  write: { out: (s: string) => void; err: (s: string) => void },
): Command {
  const core = new Command('executor')
    .description('Build a container image from a Dockerfile without a daemon (Kaniko-compatible flags)')
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err, outputError: () => {} })
    .allowExcessArguments(false)
    .option('-f, --dockerfile <path>', 'path to the Dockerfile', 'Dockerfile')
    .option(
      '-c, --context <dir>',
      'build context: DIR, dir://DIR, tar://PATH, tar://stdin, git://HOST/REPO.git[#REF[#COMMIT]], s3://BUCKET/PATH, gs://BUCKET/PATH, an Azure blob URL or an http(s) tarball URL',
      '/workspace/',
    )
    .option('--context-sub-path <path>', 'directory inside the context to build from')
    .option(
      '-b, --bucket <bucket>',
      'the context is gs://BUCKET/context.tar.gz (or SCHEME://BUCKET/OBJECT), replacing --context',
    )
    .option(
      '--git <options>',
      'for a git:// context: branch=NAME,single-branch=BOOL,recurse-submodules=BOOL,insecure-skip-tls=BOOL',
    )
    .option('-d, --destination <ref>', 'image to push (repeatable)', collect, [])
    .option('--no-push', 'build without pushing')
    .option('--tar-path <file>', 'also write the image as a docker-archive tarball')
    .option('--oci-layout-path <dir>', 'also write the image as an OCI image layout')
    .option('--digest-file <file>', 'write the image digest to this file')
    .option('--image-name-with-digest-file <file>', 'write REPO@DIGEST of each destination to this file')
    .option('--image-name-tag-with-digest-file <file>', 'write REPO:TAG@DIGEST of each destination to this file')
    .option(
      '--build-arg <KEY=VALUE>',
      'build argument (repeatable); KEY alone takes the value from the environment',
      collect,
      [],
    )
    .option('--label <KEY=VALUE>', 'label to add to the image (repeatable)', collect, [])
    .option('--custom-platform <os/arch[/variant]>', 'platform to build for, e.g. linux/arm64')
    .option('--target <stage>', 'build this stage of a multi-stage Dockerfile (default: the last)')
    .option('--skip-unused-stages', 'build only the stages the target needs')
    .option(
      '--kaniko-dir <dir>',
      "directory for the build's scratch files (default: $KANIKO_DIR, else a temp dir; /kaniko with --rootfs=/)",
    )
    .option(
      '--rootfs <path>',
      'only "/": build the target stage in place over this container\'s own filesystem (Kaniko\'s model; mount points, --kaniko-dir, the context and --ignore-paths are kept). Refused outside a container. Default: each stage in its own directory under --kaniko-dir',
    )
    .option('--force', "with --rootfs=/: build in place even outside a container (wipes this machine's filesystem)")
    .option(
      '--cleanup',
      'with --rootfs=/: empty / again at the end of the build, keeping what the build kept (without --rootfs=/ the scratch directory is always removed)',
    )
    .option('--secret <id=ID,src=PATH|env=VAR>', 'build secret for RUN --mount=type=secret (repeatable)', collect, [])
    .addOption(
      new Option('-v, --verbosity <level>', `log level: ${LOG_LEVELS.join(', ')} (in any case)`)
        .argParser(logLevel)
        .default('info'),
    )
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'color', 'json']))
    .option('--log-timestamp', 'prefix log lines with a timestamp');
  const program = addCacheFlags(addLayerFlags(addRegistryFlags(core))).action((opts: Record<string, unknown>) => {
    const raw = { ...opts } as RawOptions & { logFormat?: string };
    onAction({
      kind: 'build',
      raw: { ...raw, logFormat: raw.logFormat ?? 'color' },
      logFormatGiven: raw.logFormat !== undefined,
      warnings: [],
    });
  });
  program
    .command('version')
    .description('print the version')
    .action(() => onAction({ kind: 'version' }));
  // Cobra's `executor help [command]`: the usage on stdout, exit 0.
  program.helpCommand('help [command]', 'display help for executor or one of its commands');
  return program;
}

/**
 * Parses a command line (without node and script), Kaniko's pflag forms first rewritten
 * (`cli/argv.ts`); resolves to what it asked for, with the deprecation warnings to log. Throws
 * commander's errors (`--help` and `help` are CommanderErrors with exit code 0).
 */
export async function parseCommandLine(
  argv: readonly string[],
  write: { out: (s: string) => void; err: (s: string) => void },
): Promise<Action | undefined> {
  let action: Action | undefined;
  const program = buildProgram((a) => (action = a), write);
  const normalised = normaliseArgv(argv, flagSpec(program));
  await program.parseAsync(normalised.argv, { from: 'user' });
  if (action?.kind === 'build') action.warnings = normalised.warnings;
  return action;
}
