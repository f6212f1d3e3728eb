/**
 * Kaniko's layer cache flags (issue 15), with Kaniko's names, forms and defaults
 * (`config/cache-options.ts` reads them). The boolean ones that default to true also have a
 * hidden `--no-` form, which is how `--cache-run-layers=false` reaches commander (cli/argv.ts).
 */
import { Option, type Command } from 'commander';

/** Adds the cache flags to the executor command. */
export function addCacheFlags(cmd: Command): Command {
  return cmd
    .option(
      '--cache',
      'use the layer cache: reuse the layers of RUN (and with --cache-copy-layers COPY/ADD) steps built before',
    )
    .option(
      '--cache-repo <repo>',
      'where cache entries live: a registry repository (default: the first --destination + /cache), or oci:DIR for a local OCI layout',
    )
    .option(
      '--cache-dir <dir>',
      'base images put there by `executor warmer`, used before the registry (default /cache)',
    )
    .option('--cache-ttl <duration>', 'cache entries older than this are misses (Go duration, default 336h: two weeks)')
    .option('--cache-copy-layers', 'cache COPY and ADD layers too (default false)')
    .option('--cache-run-layers', 'cache RUN layers (default true)')
    .addOption(new Option('--no-cache-run-layers').hideHelp())
    .option(
      '--compressed-caching',
      "accepted for Kaniko's command lines; changes nothing: Kiln never holds a layer in memory",
    )
    .option('--no-push-cache', 'look layers up in the cache but store no new entries');
}
