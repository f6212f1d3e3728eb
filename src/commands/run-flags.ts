/**
 * RUN's `--network` and `--security` flags (Dockerfile reference, "RUN --network", "RUN
 * --security"). PURE.
 * - `--network=default` and `--network=host` run in the host's network, which is where Kiln runs
 *   every RUN anyway (like Kaniko: there is no daemon-made bridge network to leave);
 *   `--network=none` gives the step a network namespace of its own with only loopback.
 * - `--security=sandbox` is the default; `--security=insecure` (BuildKit's privileged RUN, behind
 *   the `security.insecure` entitlement) is refused: Kiln never runs a step with extra privileges.
 */
import { DockerfileError } from '../errors.js';
import type { RunInstruction } from '../dockerfile/instructions.js';

/** The network of a RUN: the host's, or a namespace of its own with only loopback. */
export type RunNetwork = 'host' | 'none';

const NETWORKS = ['default', 'none', 'host'];

/** The network a RUN asked for. */
export function runNetwork(ins: RunInstruction): RunNetwork {
  const value = ins.network;
  if (value === undefined) return 'host';
  if (!NETWORKS.includes(value)) {
    throw new DockerfileError(`unsupported network mode ${JSON.stringify(value)} for RUN --network`, ins.at, {
      source: ins.text,
      hint: `use one of ${NETWORKS.join(', ')}`,
    });
  }
  return value === 'none' ? 'none' : 'host';
}

/** Checks `--security`: sandbox is accepted, insecure is refused. */
export function checkRunSecurity(ins: RunInstruction): void {
  const value = ins.security;
  if (value === undefined || value === 'sandbox') return;
  if (value === 'insecure') {
    throw new DockerfileError('RUN --security=insecure is not supported', ins.at, {
      source: ins.text,
      hint: 'Kiln never grants a step extra privileges; drop the flag (sandbox is the default)',
    });
  }
  throw new DockerfileError(`unsupported security mode ${JSON.stringify(value)} for RUN --security`, ins.at, {
    source: ins.text,
    hint: 'use sandbox or insecure',
  });
}
