/** The command line of `npm run login`: help, and mistakes reported as usage errors (exit 2). */
import { describe, expect, it } from 'vitest';
import { runLogin, tempDir } from './run-login.ts';

// Nothing listens there: none of these runs may reach the network.
const options = { oauthUrl: 'http://127.0.0.1:1' };

describe('command line', () => {
  it('--help lists the options and exits 0', async () => {
    const { dir, cleanup } = await tempDir('args');
    try {
      const result = await runLogin(['--help'], { ...options, home: dir });
      expect(result.code).toBe(0);
      for (const option of ['--output FILE', '--account NAME', '--import', '--to TARGET', 'QWEN_OAUTH_BASE_URL']) {
        expect(result.stdout).toContain(option);
      }
    } finally {
      await cleanup();
    }
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--to', 'heroku'], /Unknown --to "heroku": use dev-vars, cloudflare, vercel/],
    [['--account', 'a/b'], /--account must be 1-40 letters/],
    [['--output', ''], /--output needs a file name/],
    [['stray'], /Unexpected argument 'stray'/],
  ])('rejects %j with exit 2', async (args, message) => {
    const { dir, cleanup } = await tempDir('args');
    try {
      const result = await runLogin(args, { ...options, home: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await cleanup();
    }
  });
});
