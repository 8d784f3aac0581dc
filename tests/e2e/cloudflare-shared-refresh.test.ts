import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';

/**
 * Two Worker isolates (two workerd workers running the same bundle) share one QwenAccounts Durable
 * Object, as every isolate of a deployment does. Refresh tokens are single-use, so however many
 * requests arrive at once in however many isolates on an expired token, Qwen must see one refresh.
 */
let fake: FakeQwen;
let mf: Miniflare;

beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http', refreshLatencyMs: 400, rpmLimit: null });
});
afterAll(async () => {
  await mf?.dispose();
  await fake.close();
});

test('N concurrent requests across two isolates on an expired token: one refresh, all succeed', async () => {
  const accounts = [
    { ...fake.mintCredentials(), id: 'a', expiry_date: Date.now() - 1_000 },
    { ...fake.mintCredentials(), id: 'b', expiry_date: Date.now() - 1_000 },
  ];
  const bindings = { QWEN_CLI_AUTH: JSON.stringify(accounts), QWEN_OAUTH_BASE_URL: fake.oauthUrl, LOG_LEVEL: 'error' };
  const worker = (name: string) => ({
    name,
    modules: true,
    scriptPath: 'dist/cloudflare/worker.js',
    compatibilityDate: '2026-04-20',
    bindings,
    kvNamespaces: { QWEN_KV: 'shared-kv' },
    durableObjects: { QWEN_ACCOUNTS: { className: 'QwenAccounts', scriptName: 'one', useSQLite: true } },
  });
  mf = new Miniflare({ workers: [worker('one'), worker('two')] });
  const isolates = [await mf.getWorker('one'), await mf.getWorker('two')];

  const N = 24;
  const before = fake.counters.refreshCalls;
  const answers = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const res = await isolates[i % 2]!.fetch('http://gateway/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'coder-model', messages: [{ role: 'user', content: `request ${i}` }] }),
      });
      return { status: res.status, body: (await res.json()) as { choices?: Array<{ message: { content: string } }> } };
    }),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(N).fill(200));
  answers.forEach((a, i) => expect(a.body.choices?.[0]?.message.content).toContain(`request ${i}`));
  // One refresh per account, never two at once on the same token.
  expect(fake.counters.refreshCalls - before).toBe(2);
  expect(Object.values(fake.counters.refreshCallsByToken).every((n) => n === 1)).toBe(true);
  console.log(`cross-isolate refresh: ${N} concurrent requests over 2 isolates and 2 accounts, ${fake.counters.refreshCalls - before} refresh calls, ${answers.filter((a) => a.status !== 200).length} failures`);
});
