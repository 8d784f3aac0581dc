import { afterAll, beforeAll, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { createDeps } from '../../lib/create-deps.ts';
import { createConsoleLogger } from '../../lib/logger.ts';
import { handle } from '../../lib/handle.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';

let fake: FakeQwen;
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http' });
});
afterAll(() => fake.close());

test('no token, refresh token or key ever reaches the log, whatever happens', async () => {
  const lines: string[] = [];
  const alive = fake.mintCredentials();
  const expired = { ...fake.mintCredentials(), id: 'expired', expiry_date: Date.now() - 1 };
  const dead = { ...fake.mintCredentials(), id: 'dead', expiry_date: Date.now() - 1 };
  fake.revoke({ refresh_token: dead.refresh_token });
  const clientKey = 'sk-client-secret-key-123456';
  const apiKey = fake.mintCredentials().access_token;
  const deps = {
    ...createDeps({
      env: {
        QWEN_CLI_AUTH: JSON.stringify([{ ...alive, id: 'alive' }, expired, dead]),
        QWEN_API_KEY: apiKey,
        OPENAI_BASE_URL: `${fake.apiUrl}/v1`,
        OPENAI_MODELS: 'coder-model',
        OPENAI_API_KEY: clientKey,
        QWEN_OAUTH_BASE_URL: fake.oauthUrl,
      },
      store: new MemoryStore(),
      logger: createConsoleLogger('debug', (line) => lines.push(line)),
    }),
    waitUntil: () => {},
  };
  const ask = async (init: { key?: string; stream?: boolean } = {}) => {
    const res = await handle(
      new Request('http://gateway/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${init.key ?? clientKey}` },
        body: JSON.stringify({ model: 'coder-model', stream: init.stream ?? false, messages: [{ role: 'user', content: 'hi' }] }),
      }),
      deps,
    );
    await res.text();
  };
  for (let i = 0; i < 6; i++) await ask({ stream: i % 2 === 0 });
  await ask({ key: 'sk-wrong-key-987654321' });
  fake.setScenario({ dailyQuota: 0 });
  await ask();
  fake.setScenario({ dailyQuota: 2000 });
  await handle(new Request('http://gateway/v1/status', { headers: { authorization: `Bearer ${clientKey}` } }), deps);

  const log = lines.join('\n');
  expect(log).toMatch(/refreshed Qwen access token/);
  expect(log).toMatch(/needs a new login/);
  for (const secret of [alive, expired, dead].flatMap((c) => [c.access_token, c.refresh_token]).concat(clientKey, apiKey, 'sk-wrong-key-987654321')) {
    expect(log).not.toContain(secret);
  }
  // Nor any token minted by the refreshes that happened along the way.
  for (const request of fake.requests) {
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    if (token) expect(log).not.toContain(token);
  }
});
