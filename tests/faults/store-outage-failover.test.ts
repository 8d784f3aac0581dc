import { afterAll, beforeAll, expect, test } from 'vitest';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { createDeps } from '../../lib/create-deps.ts';
import { createConsoleLogger } from '../../lib/logger.ts';
import { handle } from '../../lib/handle.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';
import { faultyStore, storeDown } from '../support/faulty-store.ts';

/**
 * A store outage while an account needs a refresh is a 503 of its own (store_unavailable), never a
 * 500, and the request moves on to an account that needs no refresh.
 */
let fake: FakeQwen;
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http', rpmLimit: null });
});
afterAll(() => fake.close());

function gateway(accounts: object[], lines: string[]) {
  const deps = createDeps({
    env: { QWEN_CLI_AUTH: JSON.stringify(accounts), OPENAI_API_KEY: 'k', QWEN_OAUTH_BASE_URL: fake.oauthUrl },
    store: faultyStore(new MemoryStore(), () => storeDown()),
    logger: createConsoleLogger('info', (line) => lines.push(line)),
  });
  return (content: string) =>
    handle(
      new Request('http://gateway/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'coder-model', messages: [{ role: 'user', content }] }),
      }),
      { ...deps, waitUntil: () => {} },
    );
}

test('the store is down: an account that needs a refresh is skipped with store_unavailable, a fresh one serves', async () => {
  const lines: string[] = [];
  const ask = gateway(
    [
      { ...fake.mintCredentials(), id: 'expired', expiry_date: Date.now() - 1_000 },
      { ...fake.mintCredentials(), id: 'fresh' },
    ],
    lines,
  );
  const before = fake.counters.refreshCalls;
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await ask(`q${i}`);
    statuses.push(res.status);
    await res.text();
  }
  expect(statuses).toEqual([200, 200, 200, 200]);
  // Nothing was refreshed: a refresh whose result cannot be stored is not started.
  expect(fake.counters.refreshCalls).toBe(before);
  const log = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(log.some((l) => l.msg === 'retrying on another account' && l.code === 'store_unavailable')).toBe(true);
  expect(log.some((l) => l.msg === 'unexpected error')).toBe(false);
});

test('the store is down and every account needs a refresh: 503 store_unavailable with Retry-After, not a 500', async () => {
  const ask = gateway([{ ...fake.mintCredentials(), id: 'only', expiry_date: Date.now() - 1_000 }], []);
  const res = await ask('q');
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('2');
  expect((await res.json()).error).toMatchObject({ code: 'store_unavailable', type: 'server_error' });
});
