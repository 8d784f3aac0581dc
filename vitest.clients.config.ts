import { defineConfig } from 'vitest/config';

/**
 * `npm run test:clients`: the real Claude Code and Codex CLIs (pinned in tests/clients/client-pins.json,
 * installed on demand into ~/.cache) against both hosts of the gateway. Kept out of `npm test`: the
 * first run downloads about 650 MB.
 */
export default defineConfig({
  test: {
    include: ['tests/clients/**/*.test.ts'],
    globalSetup: ['tests/e2e/global-setup.ts', 'tests/clients/install-clients.ts'],
    // One CLI run is given 60 s; a test makes one run plus its own checks.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
