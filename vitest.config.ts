import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The real-client suite has its own config (vitest.clients.config.ts, `npm run test:clients`).
    exclude: [...configDefaults.exclude, 'tests/clients/**'],
    // The build of the Worker, and the one line that says why the Redis suites are skipped (if they are).
    globalSetup: ['tests/e2e/global-setup.ts', 'tests/support/redis-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The e2e suites start workerd and edge-runtime servers; on a 2-core machine, running every file
    // at once only makes them compete.
    maxWorkers: 2,
  },
});
