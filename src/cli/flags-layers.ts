/** Kaniko's layers-tier flags (DESIGN.md §1), added to the executor command. */
import type { Command } from 'commander';

/** Boolean flags of this tier, which also take pflag's `--flag=true|false`. */
export const LAYER_BOOLEAN_FLAGS: string[] = [];

export function addLayerFlags(cmd: Command): Command {
  return cmd;
}
