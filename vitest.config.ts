import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Tests live in test/, mirroring src/, except src/http/, whose middleware keep their test beside them.
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    pool: 'forks',
  },
});
