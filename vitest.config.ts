import { defineConfig } from 'vitest/config';

// Integration and end-to-end tests start real registries and spawn the executor; give them room.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most end-to-end time is waiting (registries starting, executors spawned, timeouts): two
    // files at once on the two cores. vitest's default is one fewer than the cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
