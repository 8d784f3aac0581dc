/**
 * `npm run login` against the fake chat.qwen.ai: the device flow with PKCE, the polling rules
 * (authorization_pending, slow_down with 429 or 400), the ways it ends (approved, denied, expired,
 * non-JSON answers, Ctrl-C), and the credentials file it leaves behind.
 * No sleeps: the fake's counters and the CLI's own output say when to act.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeQwen } from '../fake-qwen/index.ts';
import { modeOf, runLogin, startLogin, useLoginSandbox } from './run-login.ts';

const sandbox = useLoginSandbox('device');
let fake: FakeQwen;
let home: string;
beforeEach(() => {
  ({ fake, home } = sandbox);
});

const credsFile = (): string => path.join(home, '.qwen', 'oauth_creds.json');

/** The form fields of every recorded OAuth request to `suffix`. */
function formsTo(suffix: string): Record<string, string>[] {
  return fake.requests
    .filter((r) => r.server === 'oauth' && r.path.endsWith(suffix))
    .map((r) => r.json as Record<string, string>);
}

function expectNoSecrets(output: string, secrets: string[]): void {
  for (const secret of secrets) expect(output).not.toContain(secret);
}

describe('successful login', () => {
  it.each([429, 400] as const)(
    'polls through authorization_pending and one slow_down (HTTP %i), then writes Qwen Code’s file',
    async (slowDownStatus) => {
      // Every poll after the first comes "too fast" until the slow_down has been sent.
      fake.setScenario({ autoApproveAfterPolls: 3, minPollMs: 3_600_000, slowDownStatus });
      const run = startLogin([], { home, oauthUrl: fake.oauthUrl });
      await fake.waitFor((c) => c.devicePolls >= 2, 10_000);
      // Decided synchronously in the fake: poll 2 got slow_down, and no later poll has arrived yet.
      fake.setScenario({ minPollMs: 0 });
      const result = await run.done;

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      // Polls counted toward approval: 3 pending + 1 success; the one in between was the slow_down.
      expect(fake.counters.devicePolls).toBe(5);
      expect(result.stdout).toContain('Waiting for approval');
      expect(result.stdout).toContain(`Credentials saved to ${credsFile()}`);

      const text = await readFile(credsFile(), 'utf8');
      const creds = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(creds)).toEqual(['access_token', 'token_type', 'refresh_token', 'resource_url', 'expiry_date']);
      expect(text).toBe(JSON.stringify(creds, null, 2)); // byte for byte what Qwen Code writes
      expect(creds.token_type).toBe('Bearer');
      expect(creds.resource_url).toMatch(/^127\.0\.0\.1:\d+$/);
      // Milliseconds, about an hour ahead (the fake issues 3600 s tokens).
      expect(creds.expiry_date).toBeGreaterThan(Date.now() + 3_000_000);
      expect(creds.expiry_date).toBeLessThan(Date.now() + 3_700_000);

      expect(modeOf(await stat(credsFile()))).toBe(0o600);
      expect(modeOf(await stat(path.dirname(credsFile())))).toBe(0o700);
      // Atomic write: no temp file left next to it.
      expect(await readdir(path.dirname(credsFile()))).toEqual(['oauth_creds.json']);

      const deviceCode = formsTo('/oauth2/token')[0]?.device_code ?? '';
      expect(deviceCode).not.toBe('');
      expectNoSecrets(result.output, [creds.access_token as string, creds.refresh_token as string, deviceCode]);
    },
  );

  it('sends PKCE S256 and the form exactly as Qwen Code, and the fake verifies it', async () => {
    fake.setScenario({ autoApproveAfterPolls: 0, requireUserAgent: true });
    const result = await runLogin([], { home, oauthUrl: fake.oauthUrl });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const [device] = fake.requests.filter((r) => r.path === '/api/v1/oauth2/device/code');
    const [poll] = fake.requests.filter((r) => r.path === '/api/v1/oauth2/token');
    expect(device?.body).toMatch(/^client_id=f0304373b74a44d2b584a3fb70ca9e56&scope=openid%20profile%20email%20model\.completion&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256$/);
    expect(device?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const request of [device, poll]) {
      expect(request?.headers['user-agent']).toMatch(/^QwenCode\/\d+\.\d+\.\d+ \(\w+; \w+\)$/);
      expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request?.headers.accept).toBe('application/json');
    }
    const deviceForm = device?.json as Record<string, string>;
    const pollForm = poll?.json as Record<string, string>;
    expect(pollForm.grant_type).toBe('urn:ietf:params:oauth:grant-type:device_code');
    expect(pollForm.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createHash('sha256').update(pollForm.code_verifier!).digest('base64url')).toBe(deviceForm.code_challenge);
  });

  it('prints the verification URL, the user code and, with --qr, a QR code; never opens a browser without a TTY', async () => {
    fake.setScenario({ autoApproveAfterPolls: 0 });
    const result = await runLogin(['--qr'], { home, oauthUrl: fake.oauthUrl, env: { DISPLAY: ':0' } });
    expect(result.code).toBe(0);
    const code = /Code:\s+([A-Z0-9]{8})\b/.exec(result.stdout)?.[1];
    expect(code).toBeDefined();
    expect(result.stdout).toContain(`Open:  ${fake.oauthUrl}/authorize?user_code=${code}&client=qwen-code`);
    expect(result.stdout).toMatch(/[▀▄█]{20,}/);
    expect(result.stdout).not.toContain('Opened it in your browser');
  });

  it('writes --output FILE instead, creating missing directories 0700', async () => {
    fake.setScenario({ autoApproveAfterPolls: 1 });
    const file = path.join(home, 'nested', 'dir', 'creds.json');
    const result = await runLogin(['--output', file], { home, oauthUrl: fake.oauthUrl });
    expect(result.code).toBe(0);
    expect(modeOf(await stat(file))).toBe(0o600);
    expect(modeOf(await stat(path.dirname(file)))).toBe(0o700);
    await expect(stat(credsFile())).rejects.toThrow(/ENOENT/);
    expect(result.stdout).toContain(`--import --output ${file} --to dev-vars`);
  });

  it('--account NAME writes ~/.qwen/oauth_creds_NAME.json', async () => {
    fake.setScenario({ autoApproveAfterPolls: 0 });
    const result = await runLogin(['--account', 'work'], { home, oauthUrl: fake.oauthUrl });
    expect(result.code).toBe(0);
    expect(await readdir(path.join(home, '.qwen'))).toEqual(['oauth_creds_work.json']);
    expect(result.stdout).toContain('--import --account work --to dev-vars');
  });
});

describe('failed login', () => {
  it('stops with "access denied" when the user declines', async () => {
    const run = startLogin([], { home, oauthUrl: fake.oauthUrl });
    const [, userCode] = await run.waitForOutput(/Code:\s+(\S+)/);
    fake.denyDevice(userCode!);
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/access denied/i);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await expect(stat(path.join(home, '.qwen'))).rejects.toThrow(/ENOENT/);
  });

  it('stops when the server says the device code expired (expired_token)', async () => {
    const run = startLogin([], { home, oauthUrl: fake.oauthUrl });
    await fake.waitFor((c) => c.devicePolls >= 1, 10_000);
    fake.clock.advance(901_000); // past the fake's 900 s expires_in
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/code expired before it was approved/);
    await expect(stat(path.join(home, '.qwen'))).rejects.toThrow(/ENOENT/);
  });

  it('stops by itself when expires_in runs out, even if the server keeps saying pending', async () => {
    // The fake's clock stands still, so it never expires the code: only the CLI's own deadline ends it.
    fake.setScenario({ deviceCodeExpiresInSec: 1 });
    fake.clock.freeze();
    const result = await runLogin([], { home, oauthUrl: fake.oauthUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/code expired before it was approved/);
    expect(fake.counters.devicePolls).toBeGreaterThan(0);
  });

  it('says the device code is invalid when the token endpoint answers 401', async () => {
    const run = startLogin([], { home, oauthUrl: fake.oauthUrl });
    await fake.waitFor((c) => c.devicePolls >= 1, 10_000);
    // The fake forgets the device code: the next poll presents an unknown one, answered 401.
    fake.reset();
    fake.setScenario({ invalidDeviceCodeStatus: 401 });
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Device code expired or invalid/);
  });

  it.each(['html', 'invalid-json', 'error-body'] as const)(
    'reports a device-code answer that is %s clearly, without a stack trace',
    async (deviceCodeFault) => {
      fake.setScenario({ deviceCodeFault });
      const result = await runLogin([], { home, oauthUrl: fake.oauthUrl });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        deviceCodeFault === 'error-body' ? /Device authorization failed: server_error/ : /instead of JSON \(HTTP 200\)/,
      );
      if (deviceCodeFault === 'html') expect(result.stderr).toMatch(/with HTML instead of JSON/);
      expect(result.stderr).not.toMatch(/\n\s+at |SyntaxError|Unexpected error/);
      expect(result.stdout).toBe('');
    },
  );

  it('reports a server it cannot reach', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runLogin([], { home, oauthUrl: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Could not reach the Qwen OAuth server at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('stops cleanly on Ctrl-C (SIGINT) while waiting, writing nothing', async () => {
    const run = startLogin([], { home, oauthUrl: fake.oauthUrl });
    await fake.waitFor((c) => c.devicePolls >= 1, 10_000);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Cancelled. Nothing was written.');
    await expect(stat(path.join(home, '.qwen'))).rejects.toThrow(/ENOENT/);
  });
});
