import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';

/**
 * KV is the isolates' read cache on Cloudflare, readable by anything bound to the namespace and
 * stale for up to a minute: it holds access tokens only. Refresh tokens stay in the Durable Object.
 */
let fake: FakeQwen;
let mf: Miniflare | undefined;
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http' });
});
afterAll(async () => {
  await mf?.dispose();
  await fake.close();
});

test('after a refresh, KV holds the new access token and no refresh token at all', async () => {
  const deployed = { ...fake.mintCredentials(), id: 'kv', expiry_date: Date.now() - 1_000 };
  mf = new Miniflare({
    modules: true,
    scriptPath: 'dist/cloudflare/worker.js',
    compatibilityDate: '2026-04-20',
    kvNamespaces: ['QWEN_KV'],
    durableObjects: { QWEN_ACCOUNTS: { className: 'QwenAccounts', useSQLite: true } },
    bindings: { QWEN_CLI_AUTH: JSON.stringify(deployed), QWEN_OAUTH_BASE_URL: fake.oauthUrl, LOG_LEVEL: 'error' },
    cf: false,
  });
  const res = await mf.dispatchFetch('http://gateway/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'coder-model', messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
  expect(fake.counters.refreshCalls).toBe(1);
  const kv = await mf.getKVNamespace('QWEN_KV');
  const { keys } = await kv.list();
  const values = await Promise.all(keys.map(async ({ name }) => [name, (await kv.get(name)) ?? ''] as const));
  expect(values.map(([name]) => name)).toContain('qwen:access:kv');
  const cached = JSON.parse(values.find(([name]) => name === 'qwen:access:kv')![1]);
  expect(cached.credentials.access_token).toEqual(expect.any(String));
  expect(cached.credentials.access_token).not.toBe(deployed.access_token);
  for (const [, value] of values) {
    expect(value).not.toContain('refresh_token');
    expect(value).not.toContain(deployed.refresh_token);
  }
});
