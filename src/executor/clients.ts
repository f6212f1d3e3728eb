/**
 * The registry clients of one build: one for pulls and one for pushes, since Kaniko's
 * insecure/TLS flags differ between the two. Both read credentials from the Docker config.
 */
import { dockerConfigCredentials } from '../registry/credentials.js';
import { RegistryClient } from '../registry/client.js';
import type { BuildEnv } from './build-env.js';

export interface RegistryClients {
  pull: RegistryClient;
  push: RegistryClient;
  close(): Promise<void>;
}

export function createRegistryClients(env: BuildEnv): RegistryClients {
  const o = env.options;
  const credentials = dockerConfigCredentials({ env: env.env, homeDir: env.homeDir });
  const common = { logger: env.logger, userAgent: `kiln/${env.version}`, credentials };
  const pull = new RegistryClient({ ...common, insecure: o.insecurePull, skipTlsVerify: o.skipTlsVerifyPull });
  const push = new RegistryClient({ ...common, insecure: o.insecurePush, skipTlsVerify: o.skipTlsVerifyPush });
  return {
    pull,
    push,
    async close() {
      await Promise.all([pull.close(), push.close()]);
    },
  };
}
