// @ts-check
// Runs the real CLIs the way a new user would, but sealed off: a throwaway HOME (and CODEX_HOME), a
// throwaway working folder, no stdin, and an environment of PATH plus what the client needs, so
// nothing from the machine's own configuration or credentials reaches them.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * @typedef {{ code: number | null, signal: string | null, stdout: string, stderr: string, ms: number }} ClientRun
 */

/**
 * @param {string} bin
 * @param {string[]} args
 * @param {(home: string) => Promise<Record<string, string>>} setup writes config into the throwaway home and returns the env
 * @param {number} timeoutMs
 * @returns {Promise<ClientRun>}
 */
async function runSealed(bin, args, setup, timeoutMs) {
  const home = await mkdtemp(path.join(os.tmpdir(), 'client-home-'));
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'client-cwd-'));
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'dumb', ...(await setup(home)) };
    const started = Date.now();
    return await new Promise((resolve, reject) => {
      // Its own process group, so a timeout also ends the shell commands the client started.
      const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        stderr += `\n[run-client: killed after ${timeoutMs} ms]`;
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
      });
    });
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
}

/**
 * `claude -p <prompt>` against an Anthropic base URL (the gateway's origin, without /v1).
 * `quiet` (default true) turns off what the client does besides the conversation; the capture
 * script sets it false to record what a user's run sends.
 * @param {{ bin: string, baseUrl: string, apiKey: string, prompt: string, allowBash?: boolean, model?: string, quiet?: boolean, timeoutMs?: number }} o
 */
export function runClaude(o) {
  const args = ['-p', o.prompt];
  if (o.allowBash) args.push('--allowedTools', 'Bash');
  if (o.model) args.push('--model', o.model);
  /** @type {Record<string, string>} */
  const env = { ANTHROPIC_BASE_URL: o.baseUrl, ANTHROPIC_AUTH_TOKEN: o.apiKey };
  // Else it looks up api.anthropic.com (telemetry, update checks) and probes HEAD <base>/api/hello.
  if (o.quiet !== false) env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  return runSealed(o.bin, args, async () => env, o.timeoutMs ?? 60_000);
}

/**
 * `codex exec <prompt>` against a Responses base URL (ending in /v1), through a provider block in
 * $CODEX_HOME/config.toml. `runCommands` lets it run shell commands without asking (the working
 * folder is a throwaway one). `retries: 0` makes a failing endpoint fail at once instead of after
 * Codex's five reconnects. `quiet` as for runClaude.
 * @param {{ bin: string, baseUrl: string, apiKey: string, prompt: string, runCommands?: boolean, model?: string, retries?: number, quiet?: boolean, timeoutMs?: number }} o
 */
export function runCodex(o) {
  const args = ['exec', '--skip-git-repo-check'];
  if (o.runCommands) args.push('--dangerously-bypass-approvals-and-sandbox');
  args.push(o.prompt);
  return runSealed(
    o.bin,
    args,
    async (home) => {
      const codexHome = path.join(home, '.codex');
      await mkdir(codexHome, { recursive: true });
      const quiet = o.quiet !== false;
      // Else it contacts github.com and chatgpt.com (update check, plugin sync, analytics).
      const quietTop = quiet ? ['check_for_update_on_startup = false'] : [];
      const quietTables = quiet ? ['', '[analytics]', 'enabled = false', '', '[features]', 'plugins = false'] : [];
      const retries = o.retries === undefined ? [] : [`request_max_retries = ${o.retries}`, `stream_max_retries = ${o.retries}`];
      const lines = [
        `model = ${JSON.stringify(o.model ?? 'qwen3-coder-plus')}`,
        'model_provider = "gateway"',
        ...quietTop,
        '',
        '[model_providers.gateway]',
        'name = "Qwen Edge Gateway"',
        `base_url = ${JSON.stringify(o.baseUrl)}`,
        'env_key = "GATEWAY_API_KEY"',
        'wire_api = "responses"',
        ...retries,
        ...quietTables,
      ];
      await writeFile(path.join(codexHome, 'config.toml'), lines.join('\n') + '\n');
      return { CODEX_HOME: codexHome, GATEWAY_API_KEY: o.apiKey };
    },
    o.timeoutMs ?? 60_000,
  );
}
