/**
 * `npm run login -- --import`: hands over an existing login (Qwen Code's ~/.qwen/oauth_creds.json)
 * without a device flow, refreshing it first when it has expired.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeQwen, QwenCredentials } from '../fake-qwen/index.ts';
import { modeOf, runLogin, useLoginSandbox, type LoginOptions } from './run-login.ts';

const sandbox = useLoginSandbox('import');
let fake: FakeQwen;
let home: string;
let options: LoginOptions;
let credsFile: string;

beforeEach(() => {
  ({ fake, home } = sandbox);
  options = { home, oauthUrl: fake.oauthUrl };
  credsFile = path.join(home, '.qwen', 'oauth_creds.json');
});

/** Writes a login as Qwen Code would have left it; `expired` moves its expiry into the past. */
async function qwenCodeLogin(expired: boolean): Promise<QwenCredentials> {
  const creds = fake.mintCredentials();
  if (expired) creds.expiry_date = Date.now() - 60_000;
  await mkdir(path.dirname(credsFile), { recursive: true, mode: 0o755 });
  await writeFile(credsFile, JSON.stringify(creds, null, 2), { mode: 0o644 });
  return creds;
}

async function dotenvValue(): Promise<unknown> {
  const text = await readFile(path.join(home, '.dev.vars'), 'utf8');
  return JSON.parse(/^QWEN_CLI_AUTH='(.*)'$/m.exec(text)![1]!);
}

describe('--import', () => {
  it('hands over a valid login as it is, without any request', async () => {
    const creds = await qwenCodeLogin(false);
    const result = await runLogin(['--import', '--to', 'dev-vars'], options);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(fake.requests).toEqual([]);
    expect(await dotenvValue()).toEqual(creds);
    expect(result.output).not.toContain(creds.access_token);
    expect(result.output).not.toContain(creds.refresh_token);
  });

  it('refreshes an expired login first and saves the rotated tokens before handing them over', async () => {
    const old = await qwenCodeLogin(true);
    fake.setScenario({ omitResourceUrlOnRefresh: true });
    const result = await runLogin(['--import', '--to', 'dev-vars'], options);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(fake.counters.refreshCalls).toBe(1);
    const [refresh] = fake.requests;
    expect(refresh?.json).toEqual({
      grant_type: 'refresh_token',
      refresh_token: old.refresh_token,
      client_id: 'f0304373b74a44d2b584a3fb70ca9e56',
    });
    expect(refresh?.headers['user-agent']).toMatch(/^QwenCode\//);

    const saved = JSON.parse(await readFile(credsFile, 'utf8')) as QwenCredentials;
    expect(Object.keys(saved)).toEqual(['access_token', 'token_type', 'refresh_token', 'resource_url', 'expiry_date']);
    expect(saved.refresh_token).not.toBe(old.refresh_token); // rotated: the old one is dead now
    expect(saved.access_token).not.toBe(old.access_token);
    expect(saved.resource_url).toBe(old.resource_url); // kept although the answer omitted it
    expect(saved.expiry_date).toBeGreaterThan(Date.now());
    expect(modeOf(await stat(credsFile))).toBe(0o600);
    expect(modeOf(await stat(path.dirname(credsFile)))).toBe(0o700);
    expect(await dotenvValue()).toEqual(saved);
    for (const token of [old.access_token, old.refresh_token, saved.access_token, saved.refresh_token]) {
      expect(result.output).not.toContain(token);
    }
  });

  it('asks for a new login when the refresh token is dead, leaving the file alone', async () => {
    const old = await qwenCodeLogin(true);
    fake.revoke({ refresh_token: old.refresh_token });
    const result = await runLogin(['--import', '--to', 'dev-vars'], options);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('can no longer be refreshed (invalid_request - Invalid refresh token or client_id)');
    expect(result.stderr).toContain('npm run login');
    expect(JSON.parse(await readFile(credsFile, 'utf8'))).toEqual(old);
    await expect(stat(path.join(home, '.dev.vars'))).rejects.toThrow(/ENOENT/);
  });

  it('reports an HTML answer to the refresh clearly', async () => {
    await qwenCodeLogin(true);
    fake.setScenario({ refreshFault: 'html' });
    const result = await runLogin(['--import'], options);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/answered the refresh request with HTML instead of JSON \(HTTP 200\)/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says where it looked when there is nothing to import', async () => {
    const result = await runLogin(['--import', '--account', 'work'], options);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`No credentials at ${path.join(home, '.qwen', 'oauth_creds_work.json')}`);
  });
});
