import { ensureClient } from './install-client.mjs';

/**
 * Global setup of the client suite: installs the pinned CLIs once (a no-op when cached) before the
 * test files start, so the workers neither race for the install nor count it in their hook timeouts.
 */
export default async function setup(): Promise<void> {
  await Promise.all([ensureClient('claude'), ensureClient('codex')]);
}
