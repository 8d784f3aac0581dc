import { defineConfig } from 'vitest/config';

/** The Upstash suite alone, without the Worker build: tests/e2e/redis-skip.test.ts runs it without redis-server. */
export default defineConfig({
  test: {
    include: ['tests/store/upstash-store.test.ts'],
    globalSetup: ['tests/support/redis-global-setup.ts'],
  },
});
