import { Redis as IORedis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startVercelDevServer, type VercelDevServer } from '../../scripts/vercel/dev-server.mjs';
import { startFakeQwen, type FakeQwen } from '../fake-qwen/index.ts';
import { startFakeEdgeConfigServer, type FakeEdgeConfigServer } from '../support/edge-config-server.ts';
import { describeWithRedis } from '../support/redis-availability.ts';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.ts';
import { startUpstashRestServer, type UpstashRestServer } from '../support/upstash-rest-server.ts';

/**
 * The Vercel functions in edge-runtime with real storage behind them: Upstash (a real redis-server
 * behind the Upstash REST fake, through the real @upstash/redis client inside the Edge runtime) and
 * Edge Config (its HTTP API faked, through the real @vercel/edge-config client).
 */
const KEY = 'sk-env-key';
let fake: FakeQwen;
const servers: VercelDevServer[] = [];

/** A gateway instance (a cold start) whose log lines are collected in `logs`. */
async function gateway(env: Record<string, string>, logs: string[] = []): Promise<VercelDevServer> {
  const collect = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
  const server = await startVercelDevServer({
    env: { QWEN_OAUTH_BASE_URL: fake.oauthUrl, OPENAI_API_KEY: KEY, LOG_LEVEL: 'warn', ...env },
    port: 0,
    console: { log: collect, info: collect, warn: collect, error: collect, debug: collect },
  });
  servers.push(server);
  return server;
}
const client = (server: VercelDevServer, apiKey = KEY) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
const chatCalls = () => fake.requests.filter((r) => r.server === 'api' && r.path.endsWith('/chat/completions'));
const ask = (server: VercelDevServer, content: string, apiKey?: string) =>
  client(server, apiKey).chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content }] });

beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http' });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await fake.close();
});

describeWithRedis('vercel + Upstash Redis', () => {
  let redisServer: RedisServerHandle;
  let rest: UpstashRestServer;
  let redis: IORedis;
  beforeAll(async () => {
    redisServer = await startRedisServer();
    rest = await startUpstashRestServer(redisServer.url);
    redis = new IORedis(redisServer.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis?.quit();
    await rest?.close();
    await redisServer?.stop();
  });

  test('a refresh is written to Redis, and a cold start with the same stale QWEN_CLI_AUTH uses it instead of refreshing again', async () => {
    const account = `vercel-${Date.now()}`; // a key of its own, even on a shared REDIS_URL
    const stale = { ...fake.mintCredentials(), id: account, expiry_date: Date.now() - 1_000 };
    const env = {
      QWEN_CLI_AUTH: JSON.stringify(stale),
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
    };
    const logs: string[] = [];
    const first = await gateway(env, logs);
    const before = fake.counters.refreshCalls;
    expect((await ask(first, 'refresh me')).choices[0]?.message.content).toContain('refresh me');
    expect(fake.counters.refreshCalls).toBe(before + 1);
    // Upstash was used: no fallback to memory was announced.
    expect(logs.join('\n')).not.toContain('No Redis configured');

    const stored = JSON.parse((await redis.get(`qwen:creds:${account}`)) ?? 'null');
    expect(stored?.credentials).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(stored.credentials.access_token).not.toBe(stale.access_token);
    expect(stored.credentials.refresh_token).not.toBe(stale.refresh_token);
    expect(stored.credentials.expiry_date).toBeGreaterThan(Date.now());

    // A new isolate (a cold start of another instance) with the deployed, now stale, credentials.
    const second = await gateway(env);
    expect((await ask(second, 'no refresh')).choices[0]?.message.content).toContain('no refresh');
    expect(fake.counters.refreshCalls).toBe(before + 1);
    expect(chatCalls().at(-1)?.headers.authorization).toBe(`Bearer ${stored.credentials.access_token}`);

    // Vercel's Upstash integration spells the variables KV_REST_API_URL/TOKEN; they work the same.
    const third = await gateway({ QWEN_CLI_AUTH: env.QWEN_CLI_AUTH, KV_REST_API_URL: rest.url, KV_REST_API_TOKEN: rest.token });
    await ask(third, 'kv spelling');
    expect(fake.counters.refreshCalls).toBe(before + 1);
  });

  test('N concurrent requests across two instances sharing Upstash on an expired token: one refresh per account, all succeed', async () => {
    fake.setScenario({ refreshLatencyMs: 400, rpmLimit: null });
    const tag = Date.now();
    const accounts = ['a', 'b'].map((id) => ({ ...fake.mintCredentials(), id: `${id}-${tag}`, expiry_date: Date.now() - 1_000 }));
    const env = { QWEN_CLI_AUTH: JSON.stringify(accounts), UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token };
    const instances = [await gateway(env), await gateway(env)];
    const before = fake.counters.refreshCalls;
    const N = 24;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => ask(instances[i % 2]!, `concurrent ${i}`).then((r) => r.choices[0]?.message.content ?? '', (e: Error) => `failed: ${e.message}`)),
    );
    answers.forEach((text, i) => expect(text).toContain(`concurrent ${i}`));
    expect(fake.counters.refreshCalls - before).toBe(2);
    for (const account of accounts) expect(fake.counters.refreshCallsByToken[account.refresh_token]).toBe(1);
    console.log(`upstash shared refresh: ${N} concurrent requests over 2 instances and 2 accounts, ${fake.counters.refreshCalls - before} refresh calls, ${answers.filter((t) => t.startsWith('failed')).length} failures`);
    fake.setScenario({ refreshLatencyMs: 0 });
  });
  test('stored responses go to Upstash with their TTL, and another instance continues them with previous_response_id', async () => {
    const env = { QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()), UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token, RESPONSES_STORE_TTL_MS: '600000' };
    const [one, two] = [await gateway(env), await gateway(env)];
    const first = await client(one).responses.create({ model: 'coder-model', input: 'remember the lighthouse' });
    let ttl = -2;
    for (let i = 0; i < 50 && ttl < 0; i++) {
      ttl = await redis.pttl(`qwen:response:${first.id}`);
      if (ttl < 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(ttl).toBeGreaterThan(590_000);
    expect(JSON.parse((await redis.get(`qwen:response:${first.id}`))!).response.id).toBe(first.id);
    await client(two).responses.create({ model: 'coder-model', previous_response_id: first.id, input: 'what did I say?' });
    expect(JSON.stringify(chatCalls().at(-1)!.json)).toContain('remember the lighthouse');
    const unstored = await client(one).responses.create({ model: 'coder-model', input: 'not kept', store: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await redis.exists(`qwen:response:${unstored.id}`)).toBe(0);
  });

});

describe('vercel without Redis', () => {
  test('without Redis: memory, and one warning that refreshed tokens will not survive a cold start', async () => {
    const logs: string[] = [];
    const server = await gateway({ QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()) }, logs);
    await ask(server, 'one');
    await ask(server, 'two');
    const warnings = logs.filter((line) => line.includes('No Redis configured'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn', msg: expect.stringContaining('cold start') });
  });
});

describe('vercel + Edge Config', () => {
  let edgeConfig: FakeEdgeConfigServer;
  beforeAll(async () => {
    edgeConfig = await startFakeEdgeConfigServer();
  });
  afterAll(async () => {
    await edgeConfig?.close();
  });
  const withEdgeConfig = (connectionString = edgeConfig.connectionString) => ({
    QWEN_CLI_AUTH: JSON.stringify(fake.mintCredentials()),
    OPENAI_MODEL: 'coder-model',
    EDGE_CONFIG: connectionString,
    // Otherwise the client serves a development cache and refreshes it behind our back.
    EDGE_CONFIG_DISABLE_DEVELOPMENT_SWR: '1',
  });
  const itemReads = () => edgeConfig.requests.filter((line) => line.startsWith('GET /ecfg_test/items')).length;

  test('apiKeys, models and defaultModel from Edge Config win over the env, and Edge Config is read once, not per request', async () => {
    edgeConfig.setItems({ apiKeys: ['sk-edge-1', 'sk-edge-2'], models: ['qwen3-coder-plus', 'coder-model'], defaultModel: 'qwen3-coder-plus' });
    const readsBefore = itemReads();
    const server = await gateway(withEdgeConfig());

    const envKey = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(envKey.status).toBe(401);
    const models = await client(server, 'sk-edge-1').models.list();
    expect(models.data.map((m) => m.id)).toEqual(['qwen3-coder-plus', 'coder-model']);
    await expect(client(server, 'sk-edge-1').models.retrieve('vision-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-edge-2', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'which model?' }] }),
    });
    expect(res.status).toBe(200);
    expect((chatCalls().at(-1)?.json as { model?: string }).model).toBe('qwen3-coder-plus');

    expect(itemReads() - readsBefore).toBe(1);
  });

  test('apiKeys may be a comma-separated string', async () => {
    edgeConfig.setItems({ apiKeys: 'sk-a, sk-b' });
    const server = await gateway(withEdgeConfig());
    expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: 'Bearer sk-b' } })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(401);
    // Items Edge Config does not hold keep their env values.
    const ids = (await client(server, 'sk-a').models.list()).data.map((m) => m.id);
    expect(ids).toEqual(['coder-model', 'vision-model', 'qwen3-coder-plus', 'qwen3-coder-flash']);
  });

  test('an Edge Config that cannot be read: a warning, and the env settings serve', async () => {
    const logs: string[] = [];
    const missing = edgeConfig.connectionString.replace('/ecfg_test', '/ecfg_missing');
    const server = await gateway(withEdgeConfig(missing), logs);
    expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    const warning = logs.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)).find((entry) => entry.msg?.startsWith('Edge Config read failed'));
    expect(warning).toMatchObject({ level: 'warn', error: expect.stringContaining('Edge Config') });
    expect(JSON.stringify(warning)).not.toContain('token=');
  });
});
