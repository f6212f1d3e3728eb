/** Kaniko's registry-tier flags (DESIGN.md §1), added to the executor command. */
import type { Command } from 'commander';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Boolean flags of this tier, which also take pflag's `--flag=true|false`. */
export const REGISTRY_BOOLEAN_FLAGS = ['insecure', 'insecure-pull', 'skip-tls-verify', 'skip-tls-verify-pull', 'skip-push-permission-check'];

export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure', 'push to registries over plain HTTP')
    .option('--insecure-pull', 'pull from registries over plain HTTP')
    .option('--insecure-registry <host>', 'registry to use over plain HTTP (repeatable)', collect, [])
    .option('--skip-tls-verify', 'push without verifying TLS certificates')
    .option('--skip-tls-verify-pull', 'pull without verifying TLS certificates')
    .option('--skip-tls-verify-registry <host>', 'registry whose TLS certificate is not verified (repeatable)', collect, [])
    .option('--skip-push-permission-check', 'do not check push access before building');
}
