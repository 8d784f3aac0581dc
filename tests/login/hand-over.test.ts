/**
 * What `npm run login` does with the credentials afterwards (`--to`): QWEN_CLI_AUTH in .dev.vars
 * and .env.local, `wrangler secret put` (a stub wrangler here), the Vercel commands, and the
 * accounts pool in the array form. Every value written is checked with the gateway's own parser.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseQwenCliAuth } from '../../lib/credentials/parse-qwen-cli-auth.ts';
import type { FakeQwen } from '../fake-qwen/index.ts';
import { modeOf, runLogin, useLoginSandbox, type LoginOptions } from './run-login.ts';

let fake: FakeQwen;
let home: string;
let project: string;
let options: LoginOptions;

const sandbox = useLoginSandbox('handover');
beforeEach(async () => {
  ({ fake, home } = sandbox);
  fake.setScenario({ autoApproveAfterPolls: 1 });
  // The CLI runs in the project (npm does that); HOME is elsewhere, as on a real machine.
  project = path.join(home, 'project');
  await mkdir(project);
  options = { home, cwd: project, oauthUrl: fake.oauthUrl };
});

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

/** The single-quoted QWEN_CLI_AUTH value of a dotenv file. */
async function qwenCliAuthIn(file: string): Promise<string> {
  const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.startsWith('QWEN_CLI_AUTH='));
  const match = /^QWEN_CLI_AUTH='([^'\n]*)'$/.exec(line ?? '');
  expect(match, `QWEN_CLI_AUTH line in ${file}`).not.toBeNull();
  return match![1]!;
}

async function gatewayAccounts(value: string) {
  const parsed = await parseQwenCliAuth(value);
  if (!parsed.ok) throw parsed.error;
  return parsed.accounts;
}

function tokensOf(creds: Record<string, unknown>): string[] {
  return [creds.access_token as string, creds.refresh_token as string];
}

describe('--to dev-vars', () => {
  it('sets QWEN_CLI_AUTH in .dev.vars and .env.local, replacing the old value and keeping other lines', async () => {
    const devVars = path.join(project, '.dev.vars');
    await writeFile(
      devVars,
      '# local settings\nOPENAI_API_KEY=sk-local\nQWEN_CLI_AUTH="{\n  \\"access_token\\": \\"old\\"\n}"\nLOG_LEVEL=debug\n',
    );
    const result = await runLogin(['--to', 'dev-vars'], options);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const creds = await readJson(path.join(home, '.qwen', 'oauth_creds.json'));
    const text = await readFile(devVars, 'utf8');
    expect(text.split('\n')).toEqual([
      '# local settings',
      'OPENAI_API_KEY=sk-local',
      `QWEN_CLI_AUTH='${JSON.stringify(creds)}'`,
      'LOG_LEVEL=debug',
      '',
    ]);
    // One account: exactly Qwen Code's object, no id.
    expect(JSON.parse(await qwenCliAuthIn(path.join(project, '.env.local')))).toEqual(creds);
    const [account] = await gatewayAccounts(await qwenCliAuthIn(devVars));
    expect(account?.credentials.refresh_token).toBe(creds.refresh_token);

    for (const file of ['.dev.vars', '.env.local']) {
      expect(modeOf(await stat(path.join(project, file)))).toBe(0o600);
    }
    expect(result.stdout).toContain('Set QWEN_CLI_AUTH in');
    for (const token of tokensOf(creds)) expect(result.output).not.toContain(token);
  });

  it('hands over every saved account as the array form, each with its id; --only hands over one', async () => {
    expect((await runLogin([], options)).code).toBe(0);
    expect((await runLogin(['--account', 'work', '--to', 'dev-vars'], options)).code).toBe(0);
    const qwen = path.join(home, '.qwen');
    const defaultCreds = await readJson(path.join(qwen, 'oauth_creds.json'));
    const workCreds = await readJson(path.join(qwen, 'oauth_creds_work.json'));

    const value = await qwenCliAuthIn(path.join(project, '.dev.vars'));
    expect(JSON.parse(value)).toEqual([
      { id: 'default', ...defaultCreds },
      { id: 'work', ...workCreds },
    ]);
    expect((await gatewayAccounts(value)).map((a) => a.id)).toEqual(['default', 'work']);

    const only = await runLogin(['--account', 'work', '--import', '--only', '--to', 'dev-vars'], options);
    expect(only.code).toBe(0);
    const single = await qwenCliAuthIn(path.join(project, '.env.local'));
    expect(JSON.parse(single)).toEqual({ id: 'work', ...workCreds });
    expect((await gatewayAccounts(single)).map((a) => a.id)).toEqual(['work']);
  });
});

describe('--to cloudflare', () => {
  /** A stand-in for wrangler that records its arguments and stdin. */
  async function stubWrangler(exitCode: number): Promise<{ command: string; log: string }> {
    const command = path.join(home, 'wrangler-stub.mjs');
    const log = path.join(home, 'wrangler-stub.json');
    await writeFile(
      command,
      `#!${process.execPath}
import { writeFileSync } from 'node:fs';
let input = '';
for await (const chunk of process.stdin) input += chunk;
writeFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), input, cwd: process.cwd() }));
console.log(${exitCode === 0 ? "'✨ Success! Uploaded secret QWEN_CLI_AUTH'" : "'✘ [ERROR] Not logged in.'"});
process.exit(${exitCode});
`,
    );
    await chmod(command, 0o755);
    return { command, log };
  }

  it('runs `wrangler secret put QWEN_CLI_AUTH` with the value on stdin, never on the command line', async () => {
    const stub = await stubWrangler(0);
    const result = await runLogin(['--to', 'cloudflare'], { ...options, env: { QWEN_LOGIN_WRANGLER: stub.command } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const call = (await readJson(stub.log)) as { argv: string[]; input: string; cwd: string };
    expect(call.argv).toEqual(['secret', 'put', 'QWEN_CLI_AUTH']);
    expect(call.cwd).toBe(project);
    const creds = await readJson(path.join(home, '.qwen', 'oauth_creds.json'));
    expect(JSON.parse(call.input)).toEqual(creds);
    expect(result.stdout).toContain('Success! Uploaded secret QWEN_CLI_AUTH');
    expect(result.stdout).toContain('Cloudflare secret QWEN_CLI_AUTH set.');
    for (const token of tokensOf(creds)) expect(result.output).not.toContain(token);
  });

  it('fails clearly, with the command to run by hand, when wrangler fails', async () => {
    const stub = await stubWrangler(1);
    const result = await runLogin(['--to', 'cloudflare'], { ...options, env: { QWEN_LOGIN_WRANGLER: stub.command } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('wrangler secret put failed (exit 1)');
    expect(result.stderr).toContain(`npx wrangler secret put QWEN_CLI_AUTH < ${path.join(home, '.qwen', 'qwen_cli_auth.json')}`);
    // The login itself is kept.
    expect(modeOf(await stat(path.join(home, '.qwen', 'oauth_creds.json')))).toBe(0o600);
  });
});

describe('--to vercel', () => {
  it('prints the `vercel env add` commands reading the value from a 0600 file, not the value itself', async () => {
    const result = await runLogin(['--to', 'vercel'], options);
    expect(result.code).toBe(0);
    const valueFile = path.join(home, '.qwen', 'qwen_cli_auth.json');
    for (const environment of ['production', 'preview', 'development']) {
      expect(result.stdout).toContain(`vercel env add QWEN_CLI_AUTH ${environment} < ${valueFile}`);
    }
    const creds = await readJson(path.join(home, '.qwen', 'oauth_creds.json'));
    expect(await readJson(valueFile)).toEqual(creds);
    expect(modeOf(await stat(valueFile))).toBe(0o600);
    for (const token of tokensOf(creds)) expect(result.output).not.toContain(token);
  });
});

describe('without --to', () => {
  it('explains how to hand the credentials over, without asking (no TTY)', async () => {
    const result = await runLogin([], options);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('npm run login -- --import --to dev-vars');
    expect(result.stdout).toContain('npm run login -- --import --to cloudflare');
    expect(result.stdout).toContain('npm run login -- --import --to vercel');
    await expect(stat(path.join(project, '.dev.vars'))).rejects.toThrow(/ENOENT/);
  });
});
