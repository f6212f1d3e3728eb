/**
 * Kaniko's flags that Kiln parses with Kaniko's names and forms but refuses, saying why
 * (`config/refused-options.ts`): the layer cache flags. Defined
 * here so their values are consumed as Kaniko consumes them and the refusal names the flag,
 * instead of commander's "unknown option". Hidden from `--help`: Kiln does not offer them.
 */
import { Option, type Command } from 'commander';

/** Adds the refused flags to the executor command. */
export function addRefusedFlags(cmd: Command): Command {
  const hidden = (flags: string, description: string): Option => new Option(flags, description).hideHelp();
  return cmd
    .addOption(hidden('--cache', 'use the layer cache (not implemented yet)'))
    .addOption(hidden('--cache-repo <repo>', 'layer cache repository (not implemented yet)'))
    .addOption(hidden('--cache-dir <dir>', 'base image cache directory (not implemented yet)'))
    .addOption(hidden('--cache-ttl <duration>', 'layer cache timeout (not implemented yet)'))
    .addOption(hidden('--cache-copy-layers', 'cache COPY layers (not implemented yet)'))
    .addOption(hidden('--cache-run-layers', 'cache RUN layers (not implemented yet)'))
    .addOption(hidden('--compressed-caching', 'compress cached layers (not implemented yet)'))
    .addOption(hidden('--no-push-cache', 'do not push cache layers (not implemented yet)'));
}
