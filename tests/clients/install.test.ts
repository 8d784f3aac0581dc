import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { clientPins, clientsCacheDir, ensureClient } from './install-client.mjs';

const run = promisify(execFile);

describe('pinned clients', () => {
  test('are installed in the cache, outside the repository, and start at the pinned version', async () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    expect(path.relative(repo, clientsCacheDir()).startsWith('..')).toBe(true);
    const claude = await ensureClient('claude');
    const codex = await ensureClient('codex');
    expect(claude.startsWith(clientsCacheDir())).toBe(true);
    // Even --version leaves files in the home (Codex's helper links), so it gets a throwaway one.
    const home = await mkdtemp(path.join(os.tmpdir(), 'client-home-'));
    try {
      const env = { PATH: process.env.PATH, HOME: home, CODEX_HOME: home };
      expect((await run(claude, ['--version'], { env })).stdout.trim()).toBe(`${clientPins.claude.version} (Claude Code)`);
      expect((await run(codex, ['--version'], { env })).stdout.trim()).toBe(`codex-cli ${clientPins.codex.version}`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
