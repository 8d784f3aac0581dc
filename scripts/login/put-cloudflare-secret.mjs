// @ts-check
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LoginError } from './login-error.mjs';

/**
 * Runs `wrangler secret put QWEN_CLI_AUTH`, handing the value over on stdin so it never appears in
 * a command line (visible to other users in `ps`) or in the terminal. Uses the project's pinned
 * wrangler, else one on PATH; QWEN_LOGIN_WRANGLER names another executable (tests use a stub).
 * Wrangler's own output (account, worker name, errors) goes straight to the terminal.
 * @param {string} cwd
 * @param {string} value
 * @param {NodeJS.ProcessEnv} env
 * @param {string} manualCommand  shown when wrangler cannot be run or fails
 */
export async function putCloudflareSecret(cwd, value, env, manualCommand) {
  const local = path.join(cwd, 'node_modules', '.bin', process.platform === 'win32' ? 'wrangler.cmd' : 'wrangler');
  const command = env.QWEN_LOGIN_WRANGLER || (existsSync(local) ? local : 'wrangler');
  const exitCode = await new Promise((resolve) => {
    const child = spawn(command, ['secret', 'put', 'QWEN_CLI_AUTH'], {
      cwd,
      env,
      stdio: ['pipe', 'inherit', 'inherit'],
      shell: process.platform === 'win32',
    });
    child.on('error', (error) => resolve(/** @type {NodeJS.ErrnoException} */ (error).code ?? 'error'));
    child.on('close', (code) => resolve(code ?? 'signal'));
    // wrangler may exit before reading everything (not logged in); that is reported by its exit code.
    child.stdin.on('error', () => {});
    child.stdin.end(value);
  });
  if (exitCode === 'ENOENT') {
    throw new LoginError(`wrangler is not installed here. Set the secret yourself:\n  ${manualCommand}`);
  }
  if (exitCode !== 0) {
    throw new LoginError(
      `wrangler secret put failed (exit ${exitCode}). Check \`npx wrangler whoami\`, then run:\n  ${manualCommand}`,
    );
  }
}
