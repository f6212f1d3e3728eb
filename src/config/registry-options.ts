/**
 * The registry tier of Kaniko's flags (DESIGN.md §1): plain HTTP, TLS, and push checks.
 * Raw values come from the command line; {@link parseRegistryOptions} validates them.
 */
import { z } from 'zod';

export const registryRawShape = {
  insecure: z.boolean().default(false),
  insecurePull: z.boolean().default(false),
  insecureRegistry: z.array(z.string()).default([]),
  skipTlsVerify: z.boolean().default(false),
  skipTlsVerifyPull: z.boolean().default(false),
  skipTlsVerifyRegistry: z.array(z.string()).default([]),
  skipPushPermissionCheck: z.boolean().default(false),
};

type RegistryRaw = z.output<z.ZodObject<typeof registryRawShape>>;

export interface RegistryOptions {
  /** Registries that may be reached over plain HTTP, for pulls and pushes separately. */
  insecurePull: (registry: string) => boolean;
  insecurePush: (registry: string) => boolean;
  skipTlsVerifyPull: (registry: string) => boolean;
  skipTlsVerifyPush: (registry: string) => boolean;
  skipPushPermissionCheck: boolean;
}

export function parseRegistryOptions(o: RegistryRaw): RegistryOptions {
  const insecureRegs = new Set(o.insecureRegistry);
  const skipTlsRegs = new Set(o.skipTlsVerifyRegistry);
  return {
    insecurePull: (r) => o.insecurePull || insecureRegs.has(r),
    insecurePush: (r) => o.insecure || insecureRegs.has(r),
    skipTlsVerifyPull: (r) => o.skipTlsVerifyPull || skipTlsRegs.has(r),
    skipTlsVerifyPush: (r) => o.skipTlsVerify || skipTlsRegs.has(r),
    skipPushPermissionCheck: o.skipPushPermissionCheck,
  };
}
