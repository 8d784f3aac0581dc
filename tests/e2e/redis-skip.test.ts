import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { redisAvailability } from '../support/redis-availability.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-skip-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A PATH with node on it and no redis-server. */
function pathWithoutRedis(): string {
  const dir = tempDir();
  symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

/** `vitest run` of the Upstash suite (no Worker build) with the given env; its exit code and output. */
function runUpstashSuite(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const vitest = path.resolve('node_modules/vitest/vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', '--config', 'tests/support/redis-skip.vitest.config.ts', '--reporter=default'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

describe('without redis-server', () => {
  const { CI: _ci, REDIS_URL: _url, ...base } = process.env;
  const env = { ...base, PATH: pathWithoutRedis(), FORCE_COLOR: '0' };

  test('the suite passes with the Upstash tests skipped, and says why in one line', async () => {
    const { code, output } = await runUpstashSuite(env);
    const said = output.split('\n').filter((line) => line.includes('skipped:'));
    expect(said).toEqual(['Upstash/Redis suites skipped: redis-server is not on PATH and REDIS_URL is not set (apt-get install redis-server, or set REDIS_URL, to run them)']);
    expect(output).toMatch(/Tests\s+1 passed \| \d+ skipped/);
    expect(code).toBe(0);
  });

  test('with CI=true, the skip is a failure', async () => {
    const { code, output } = await runUpstashSuite({ ...env, CI: 'true' });
    expect(output).toContain('CI=true and redis-server is not on PATH');
    expect(output).toMatch(/Tests\s+1 failed \| 1 passed/);
    expect(output).not.toContain('suites skipped');
    expect(code).toBe(1);
  });
});

describe('redisAvailability', () => {
  test('finds an executable redis-server on PATH, or takes REDIS_URL; CI makes it required', () => {
    const withRedis = tempDir();
    writeFileSync(path.join(withRedis, 'redis-server'), '#!/bin/sh\n');
    chmodSync(path.join(withRedis, 'redis-server'), 0o755);
    const notExecutable = tempDir();
    writeFileSync(path.join(notExecutable, 'redis-server'), '');
    chmodSync(path.join(notExecutable, 'redis-server'), 0o644);

    expect(redisAvailability({ PATH: `${notExecutable}${path.delimiter}${withRedis}` })).toEqual({ available: true, reason: undefined, required: false });
    expect(redisAvailability({ PATH: notExecutable })).toMatchObject({ available: false, reason: expect.stringContaining('redis-server is not on PATH') });
    expect(redisAvailability({ PATH: '', REDIS_URL: 'redis://127.0.0.1:6379' }).available).toBe(true);
    expect(redisAvailability({ PATH: '', CI: 'true' }).required).toBe(true);
    expect(redisAvailability({ PATH: '', CI: '1' }).required).toBe(true);
    expect(redisAvailability({ PATH: '', CI: 'false' }).required).toBe(false);
  });
});
