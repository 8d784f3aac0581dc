/**
 * Runs `scripts/login.mjs` the way a CI job would: a child process with no TTY (stdin ignored),
 * HOME pointed at a temp dir, and the OAuth server overridden. Runs asynchronously, because the
 * fake server answering it lives in this very process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';

export const LOGIN_SCRIPT = fileURLToPath(new URL('../../scripts/login.mjs', import.meta.url));

export interface LoginResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never prints a token" checks. */
  output: string;
}

export interface LoginRun {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in stdout, as soon as it has been printed. */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
  done: Promise<LoginResult>;
}

export interface LoginOptions {
  home: string;
  cwd?: string;
  oauthUrl: string;
  env?: Record<string, string>;
}

/** Polls every 10 ms instead of 2 s: QWEN_LOGIN_POLL_MS only scales the first interval down. */
const TEST_POLL_MS = '10';

export function startLogin(args: string[], options: LoginOptions): LoginRun {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing from the developer's own shell may steer the CLI under test.
    if (v !== undefined && !/^(QWEN_|WRANGLER|CLOUDFLARE_|VERCEL)/.test(k)) env[k] = v;
  }
  Object.assign(env, {
    HOME: options.home,
    CI: '1',
    QWEN_OAUTH_BASE_URL: options.oauthUrl,
    QWEN_LOGIN_POLL_MS: TEST_POLL_MS,
    ...options.env,
  });
  const child = spawn(process.execPath, [LOGIN_SCRIPT, ...args], {
    cwd: options.cwd ?? options.home,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const watch of [...watchers]) watch();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<LoginResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const watch of [...watchers]) watch();
      resolve({ code, signal, stdout, stderr, output: stdout + stderr });
    });
  });
  const waitForOutput = (pattern: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const watch = (): void => {
        const match = pattern.exec(stdout);
        if (match) {
          watchers.delete(watch);
          resolve(match);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          watchers.delete(watch);
          reject(new Error(`login exited before printing ${pattern}:\n${stdout}\n${stderr}`));
        }
      };
      watchers.add(watch);
      watch();
    });
  return { child, waitForOutput, done };
}

export function runLogin(args: string[], options: LoginOptions): Promise<LoginResult> {
  return startLogin(args, options).done;
}

/** A fresh temp dir per test, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `login-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Unix permission bits of a file or directory, e.g. 0o600. */
export function modeOf(stats: { mode: number }): number {
  return stats.mode & 0o777;
}

/**
 * The shared setup of the login test files: one fake Qwen per file, reset before each test, and a
 * fresh HOME per test. Read `fake` and `home` inside hooks and tests (they change per test).
 */
export function useLoginSandbox(prefix: string): { readonly fake: FakeQwen; readonly home: string } {
  let fake: FakeQwen | undefined;
  let home = '';
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    fake = await startFakeQwen();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    fake!.reset();
    ({ dir: home, cleanup } = await tempDir(prefix));
  });
  afterEach(async () => {
    await cleanup?.();
  });
  return {
    get fake() {
      return fake!;
    },
    get home() {
      return home;
    },
  };
}
