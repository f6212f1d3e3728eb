/** Kaniko's registry-tier flags (ARCHITECTURE.md §9), added to the executor command. */
import type { Command } from 'commander';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds the registry flags to the executor command. */
export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure', 'push to registries over plain HTTP')
    .option('--insecure-pull', 'pull from registries over plain HTTP')
    .option('--insecure-registry <host>', 'registry to use over plain HTTP (repeatable)', collect, [])
    .option('--skip-tls-verify', 'push without verifying TLS certificates')
    .option('--skip-tls-verify-pull', 'pull without verifying TLS certificates')
    .option(
      '--skip-tls-verify-registry <host>',
      'registry whose TLS certificate is not verified (repeatable)',
      collect,
      [],
    )
    .option(
      '--registry-certificate <REG=PATH>',
      'CA certificate (PEM) trusted for a registry, besides the system CAs (repeatable)',
      collect,
      [],
    )
    .option(
      '--registry-client-cert <REG=CERT,KEY>',
      'client certificate and key (PEM) for mutual TLS with a registry (repeatable)',
      collect,
      [],
    )
    .option(
      '--registry-mirror <host[/prefix]>',
      'mirror to pull Docker Hub images from, tried in order (repeatable; also KANIKO_REGISTRY_MIRROR)',
      collect,
      [],
    )
    .option(
      '--registry-map <ORIG=MIRROR>',
      'mirror to pull a registry\'s images from, tried in order (repeatable, ";"-separated pairs; also KANIKO_REGISTRY_MAP)',
      collect,
      [],
    )
    .option(
      '--skip-default-registry-fallback',
      'fail when every mirror fails instead of pulling from the original registry',
    )
    .option('--push-retry <n>', 'retries of a failed push, with exponential backoff', '0')
    .option('--image-download-retry <n>', 'retries of a failed base image download, with exponential backoff', '0')
    .option(
      '--image-fs-extract-retry <n>',
      "retries of pulling a base image's layers for its filesystem, with exponential backoff",
      '0',
    )
    .option(
      '--network-timeout <duration>',
      'how long a registry or ADD <url> request may wait to connect, for an answer, or between chunks of a body before it is retried (e.g. 30s, 2m; default 30s to connect, 60s otherwise)',
    )
    .option('--push-ignore-immutable-tag-errors', "treat a registry's refusal to overwrite an immutable tag as success")
    .option('--skip-push-permission-check', 'do not check push access before building');
}
