/** Kaniko's layers-tier flags (ARCHITECTURE.md §9), added to the executor command with Kaniko's names and defaults. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { COMPRESSIONS, SNAPSHOT_MODES } from '../config/layer-options.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** pflag's ParseBool: what `--flag=VALUE` accepts for a boolean. */
function parseBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new InvalidArgumentError(`expected true or false, got "${value}"`);
}

/** Adds the layer flags to the executor command. */
export function addLayerFlags(cmd: Command): Command {
  return (
    cmd
      .addOption(
        new Option(
          '--snapshot-mode <mode>',
          'what a snapshot compares: full (content), redo (size and mtime), time (mtime)',
        )
          .choices(SNAPSHOT_MODES)
          .default('full'),
      )
      .option('--single-snapshot', 'take one snapshot per stage, at its end (one layer)')
      .option('--ignore-path <path>', 'path never captured in a layer (repeatable)', collect, [])
      // Defaults to true, so it takes a value: `--ignore-var-run=false` keeps /var/run changes.
      .addOption(
        new Option('--ignore-var-run [bool]', 'do not capture /var/run in layers').default(true).argParser(parseBool),
      )
      .addOption(
        new Option('--compression <algorithm>', 'compression of new layers').choices(COMPRESSIONS).default('gzip'),
      )
      .option('--compression-level <level>', 'compression level (gzip 0-9, zstd 1-22; -1: default)', '-1')
      .option('--reproducible', "strip timestamps: new layers' file times at the epoch, created 1970-01-01")
      .option(
        '--force-build-metadata',
        'give every instruction a layer, an empty one where it changed nothing (overrides --single-snapshot, as in Kaniko)',
      )
      .option(
        '--use-new-run',
        'accepted for Kaniko compatibility: Kiln\'s RUN already snapshots only what changed (Kaniko\'s "new run")',
      )
  );
}
