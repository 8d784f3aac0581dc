import { describeWithRedis } from '../support/redis-availability.ts';
import { Redis as IORedis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { startVercelDevServer } from '../../scripts/vercel/dev-server.mjs';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { startCloudflare, type GatewayTarget } from '../e2e/targets.ts';
import { startVercel } from '../e2e/vercel-target.ts';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.ts';
import { startUpstashRestServer, type UpstashRestServer } from '../support/upstash-rest-server.ts';

/**
 * The promise "it never loses your credentials", against the real hosts (the Worker in workerd with
 * its Durable Object, the Vercel functions in edge-runtime with Upstash over a real redis-server) and
 * the fake Qwen, whose token endpoint rotates the refresh token the moment a refresh arrives.
 */
const KEY = 'sk-faults';
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

async function fakeQwen(): Promise<FakeQwen> {
  const fake = await startFakeQwen({ resourceUrlStyle: 'http', rpmLimit: null });
  closers.push(() => fake.close());
  return fake;
}
const chat = (target: GatewayTarget, content: string) =>
  fetch(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'coder-model', messages: [{ role: 'user', content }] }),
  });
/** A completion, or why not (an error status, or an error a deadline-committed 200 carried). */
async function outcome(res: Response): Promise<{ ok: boolean; status: number; code?: string }> {
  const body = (await res.json()) as { choices?: unknown[]; error?: { code?: string } };
  return { ok: res.status === 200 && Array.isArray(body.choices), status: res.status, code: body.error?.code };
}
async function accountStates(target: GatewayTarget): Promise<string[]> {
  const res = await fetch(`${target.url}/v1/status`, { headers: { authorization: `Bearer ${KEY}` } });
  const body = (await res.json()) as { accounts: Array<{ state: string }> };
  return body.accounts.map((a) => a.state);
}
const spentTokenReused = (fake: FakeQwen) => Object.values(fake.counters.refreshCallsByToken).some((n) => n > 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const hosts = [
  { name: 'cloudflare', start: startCloudflare },
  { name: 'vercel', start: startVercel },
] as const;

describe.concurrent('a token endpoint slower than any caller waits (25 s)', () => {
  test.each(hosts)('$name: the refresh runs on, its answer is kept, the account survives', async ({ start, name }) => {
    const fake = await fakeQwen();
    fake.setScenario({ refreshLatencyMs: 25_000 });
    const target = await start({
      QWEN_CLI_AUTH: JSON.stringify({ ...fake.mintCredentials(), id: 'slow', expiry_date: Date.now() - 1_000 }),
      QWEN_OAUTH_BASE_URL: fake.oauthUrl,
      OPENAI_API_KEY: KEY,
      LOG_LEVEL: 'error',
    });
    closers.push(() => target.close());
    const started = Date.now();
    const first = await outcome(await chat(target, 'while the token endpoint is slow'));
    const waited = Date.now() - started;
    expect(first.ok).toBe(false);
    expect(first.code).toBe('qwen_refresh_busy');
    expect(waited).toBeLessThan(24_000);
    // The refresh answers at 25 s; from then on the account serves with what it brought.
    fake.setScenario({ refreshLatencyMs: 0 });
    let later = { ok: false, status: 0 } as Awaited<ReturnType<typeof outcome>>;
    for (let i = 0; i < 40 && !later.ok; i++) {
      await sleep(500);
      later = await outcome(await chat(target, 'after the slow refresh'));
      expect(later.code).not.toBe('qwen_credentials_invalid');
    }
    expect(later.ok).toBe(true);
    expect(await accountStates(target)).toEqual(['ok']);
    expect(fake.counters.refreshCalls).toBe(1);
    expect(spentTokenReused(fake)).toBe(false);
    console.log(`fault ${name}: token endpoint 25 s; first answer ${first.status} ${first.code} after ${waited} ms; refresh calls ${fake.counters.refreshCalls}; accounts lost 0`);
  }, 60_000);
});

describeWithRedis('vercel + Upstash: Redis down for 6 s across a 3 s refresh', () => {
  let redis: RedisServerHandle | undefined;
  let rest: UpstashRestServer | undefined;
  afterAll(async () => {
    await rest?.close();
    await redis?.stop();
  });

  test('the rotated token is served from memory, written once Redis is back, and a cold start uses it', async () => {
    const fake = await fakeQwen();
    redis = await startRedisServer(10_000, { own: true });
    const port = Number(new URL(redis.url).port);
    rest = await startUpstashRestServer(redis.url);
    const account = `redis-outage-${Date.now()}`;
    const env = {
      QWEN_CLI_AUTH: JSON.stringify({ ...fake.mintCredentials(), id: account, expiry_date: Date.now() - 1_000 }),
      QWEN_OAUTH_BASE_URL: fake.oauthUrl,
      OPENAI_API_KEY: KEY,
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
      LOG_LEVEL: 'warn',
    };
    const logs: string[] = [];
    const collect = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
    const server = await startVercelDevServer({
      env,
      port: 0,
      console: { log: collect, info: collect, warn: collect, error: collect, debug: collect },
    });
    closers.push(() => server.close());
    const target: GatewayTarget = { name: 'vercel', url: server.url, close: () => server.close() };

    fake.setScenario({ refreshLatencyMs: 3_000 });
    const during = chat(target, 'across the outage');
    // The refresh is on the wire (the lock taken, the stored state read): now Redis goes away.
    for (let i = 0; i < 100 && fake.counters.refreshCalls === 0; i++) await sleep(20);
    await redis.stop();
    const stoppedAt = Date.now();
    const answer = await outcome(await during);
    expect(answer.ok).toBe(true);
    // Served from memory while Redis is still down.
    expect((await outcome(await chat(target, 'still down'))).ok).toBe(true);
    await sleep(Math.max(0, 6_000 - (Date.now() - stoppedAt)));
    redis = await startRedisServer(10_000, { port });
    const direct = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
    closers.push(() => direct.quit());
    let stored: { credentials?: { refresh_token?: string } } | null = null;
    for (let i = 0; i < 60 && !stored; i++) {
      await sleep(250);
      stored = JSON.parse((await direct.get(`qwen:creds:${account}`)) ?? 'null');
    }
    expect(stored?.credentials?.refresh_token).toEqual(expect.any(String));
    const said = logs.join('\n');
    expect(said).toContain('"level":"error"');
    expect(said).toContain('rotated Qwen credentials could not be stored');
    expect(said).toContain('rotated Qwen credentials are stored now');
    expect(said).not.toContain(stored!.credentials!.refresh_token!);

    // Another instance, cold, with the deployed (spent) credentials: it must use what was stored.
    fake.setScenario({ refreshLatencyMs: 0 });
    const cold = await startVercel(env);
    closers.push(() => cold.close());
    expect((await outcome(await chat(cold, 'cold start after the outage'))).ok).toBe(true);
    expect(fake.counters.refreshCalls).toBe(1);
    expect(spentTokenReused(fake)).toBe(false);
    console.log(`fault vercel+upstash: redis down ${Date.now() - stoppedAt > 6_000 ? '6+' : '<6'} s across a 3 s refresh; refresh calls ${fake.counters.refreshCalls}; accounts lost 0`);
  }, 60_000);
});
