/**
 * The executor's command line, with Kaniko's flag names and defaults (commander is imported
 * only in cli/). Parsing only: it produces raw option values and the action to run.
 */
import { Command, Option } from 'commander';
import type { RawOptions } from '../config/options.js';
import { addLayerFlags, LAYER_BOOLEAN_FLAGS } from './flags-layers.js';
import { addRegistryFlags, REGISTRY_BOOLEAN_FLAGS } from './flags-registry.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Boolean flags, for which Kaniko (pflag) also accepts `--flag=true|false`. */
const BOOLEAN_FLAGS = [
  'no-push',
  'log-timestamp',
  'skip-unused-stages',
  'force',
  'cleanup',
  ...REGISTRY_BOOLEAN_FLAGS,
  ...LAYER_BOOLEAN_FLAGS,
];

/** Rewrites pflag-style `--flag=true` / `--flag=false` of boolean flags into commander's form. */
export function normaliseBooleanFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^--([a-z-]+)=(true|false)$/i.exec(a);
    if (m && BOOLEAN_FLAGS.includes(m[1] ?? '')) {
      if ((m[2] ?? '').toLowerCase() === 'true') out.push(`--${m[1]}`);
      continue;
    }
    out.push(a);
  }
  return out;
}

export type Action = { kind: 'build'; raw: RawOptions; logFormatGiven: boolean } | { kind: 'version' };

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
    .option('-c, --context <dir>', 'build context: a directory or dir://DIR', '/workspace/')
    .option('-d, --destination <ref>', 'image to push (repeatable)', collect, [])
    .option('--no-push', 'build without pushing')
    .option('--tar-path <file>', 'also write the image as a docker-archive tarball')
    .option('--oci-layout-path <dir>', 'also write the image as an OCI image layout')
    .option('--digest-file <file>', 'write the image digest to this file')
    .option('--image-name-with-digest-file <file>', 'write REPO@DIGEST of each destination to this file')
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
      "directory for the build's scratch files (default: a temp dir; /kaniko with --rootfs=/)",
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
      new Option('-v, --verbosity <level>', 'log level')
        .choices(['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'])
        .default('info'),
    )
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'color', 'json']))
    .option('--log-timestamp', 'prefix log lines with a timestamp');
  const program = addLayerFlags(addRegistryFlags(core)).action((opts: Record<string, unknown>) => {
    const raw = { ...opts } as RawOptions & { logFormat?: string };
    onAction({
      kind: 'build',
      raw: { ...raw, logFormat: raw.logFormat ?? 'color' },
      logFormatGiven: raw.logFormat !== undefined,
    });
  });
  program
    .command('version')
    .description('print the version')
    .action(() => onAction({ kind: 'version' }));
  return program;
}
