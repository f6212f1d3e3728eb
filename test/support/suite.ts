/** Per-file fixtures for end-to-end tests: one real registry holding the busybox base image. */
import { afterAll, beforeAll } from 'vitest';
import { pushBusybox, type BaseImage } from './busybox.js';
import { startRegistry, type TestRegistry } from './registry.js';

export interface RegistryWithBase {
  readonly reg: TestRegistry;
  readonly base: BaseImage;
}

/** Starts a registry with busybox pushed before the file's tests and stops it after them; read the fields inside tests. */
export function useRegistryWithBusybox(): RegistryWithBase {
  let reg: TestRegistry | undefined;
  let base: BaseImage | undefined;
  beforeAll(async () => {
    reg = await startRegistry();
    base = await pushBusybox(reg);
  });
  afterAll(async () => {
    await reg?.stop();
  });
  return {
    get reg(): TestRegistry {
      if (!reg) throw new Error('registry not started: use it inside a test');
      return reg;
    },
    get base(): BaseImage {
      if (!base) throw new Error('base image not pushed: use it inside a test');
      return base;
    },
  };
}
