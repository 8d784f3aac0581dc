import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeKeyProvider, type FakeKeyProvider } from '../fake-qwen/key-provider.ts';
import { assertOpenAISchema } from '../support/openai-schema.ts';
import type { GatewayTarget, StartTarget } from './targets.ts';

/**
 * API keys as people buy them in 2026, end to end on every host: Coding Plan, Token Plan, DashScope
 * and ModelScope keys in one pool (QWEN_API_KEYS), served by the fake key provider. Covers model
 * discovery, the client's User-Agent reaching plan endpoints, quota windows on the status page,
 * and failover between keys of different providers.
 */
export function defineApiKeyCases(start: StartTarget): void {
  const CLIENT_KEY = 'sk-client';
  const ADMIN_KEY = 'sk-admin';
  const AGENT_UA = 'claude-cli/2.1.300 (external, cli)';
  const KEYS = {
    plan: 'sk-sp-plan-0001',
    plan2: 'sk-sp-plan-0002',
    team: 'sk-sp-team-0001',
    payg: 'sk-payg-0001',
    scope: 'ms-00000000-1111-2222-3333-444444444444',
  };
  let fake: FakeKeyProvider;
  const targets: GatewayTarget[] = [];

  beforeAll(async () => {
    fake = await startFakeKeyProvider({
      // A model id newer than the built-in table: only discovery can know it.
      [KEYS.plan]: { provider: 'coding-plan', models: ['qwen3-coder-plus', 'qwen3.6-plus', 'qwen3.9-coder-preview'] },
      [KEYS.plan2]: { provider: 'coding-plan', models: ['qwen3-coder-plus', 'qwen3.6-plus'] },
      [KEYS.team]: { provider: 'token-plan', models: ['qwen3.6-plus', 'qwen3.7-max'] },
      [KEYS.payg]: { provider: 'dashscope', models: ['qwen3-coder-plus', 'qwen3.6-plus'] },
      [KEYS.scope]: { provider: 'modelscope', models: ['Qwen/Qwen3.5-397B-A17B'], noModelList: true },
    });
  });
  afterAll(async () => {
    await Promise.all(targets.map((t) => t.close()));
    await fake.close();
  });

  type Entry = { id: string; key: string; provider: string; region?: string; tier?: string; path: string };
  async function gateway(entries: Entry[], env: Record<string, string> = {}): Promise<GatewayTarget> {
    const keys = entries.map(({ path, ...entry }) => ({ ...entry, baseUrl: `${fake.url}${path}` }));
    const target = await start({ QWEN_API_KEYS: JSON.stringify(keys), OPENAI_API_KEY: CLIENT_KEY, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'error', ...env });
    targets.push(target);
    return target;
  }
  const plan = (id = 'plan', key = KEYS.plan): Entry => ({ id, key, provider: 'coding-plan', region: 'intl', tier: 'lite', path: '/v1' });
  const team: Entry = { id: 'team', key: KEYS.team, provider: 'token-plan', region: 'intl', path: '/compatible-mode/v1' };
  const payg: Entry = { id: 'payg', key: KEYS.payg, provider: 'dashscope', region: 'us', path: '/compatible-mode/v1' };
  const scope: Entry = { id: 'scope', key: KEYS.scope, provider: 'modelscope', path: '/v1' };

  const chat = (gw: GatewayTarget, model: string, content: string, userAgent = AGENT_UA, stream = false) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', 'user-agent': userAgent },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content }] }),
    });
  const status = async (gw: GatewayTarget) => {
    const res = await fetch(`${gw.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
    const body = JSON.parse(text) as { accounts: Array<Record<string, any>> };
    return Object.fromEntries(body.accounts.map((a) => [a.id, a]));
  };
  const chatsTo = (key: string, from: number) => fake.requests.slice(from).filter((r) => r.key === key && r.path.endsWith('/chat/completions'));

  describe('API-key providers', () => {
    test('models are discovered from each provider (GET /models), with the built-in list where there is none', async () => {
      const gw = await gateway([plan(), scope]);
      const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}`, 'user-agent': AGENT_UA } });
      const list = await res.json();
      assertOpenAISchema('ListModelsResponse', list);
      const ids = list.data.map((m: { id: string }) => m.id);
      // The plan's own list (with the id no built-in table has), then ModelScope's built-in one.
      expect(ids).toEqual(expect.arrayContaining(['qwen3.9-coder-preview', 'qwen3-coder-plus', 'Qwen/Qwen3.5-397B-A17B']));
      expect(ids).not.toContain('glm-4.7'); // in the built-in Coding Plan table, not in this key's list
      const discovery = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/models'));
      expect(discovery.map((r) => r.key).sort()).toEqual([KEYS.plan, KEYS.scope].sort());
      // The discovered model is served, and goes to the key that lists it.
      const from = fake.requests.length;
      const answer = await chat(gw, 'qwen3.9-coder-preview', 'new model');
      expect(answer.status).toBe(200);
      expect((await answer.json()).choices[0].message.content).toContain('new model');
      expect(chatsTo(KEYS.plan, from)).toHaveLength(1);
      // Asked again within the hour: no second discovery.
      await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}`, 'user-agent': AGENT_UA } });
      expect(fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/models'))).toHaveLength(discovery.length);
    });

    test("plan endpoints get the client's own User-Agent; a client the Coding Plan does not serve hears why", async () => {
      const gw = await gateway([plan(), team, payg]);
      let from = fake.requests.length;
      const streamed = await chat(gw, 'qwen3-coder-plus', 'as claude code', AGENT_UA, true);
      expect(streamed.status).toBe(200);
      expect(await streamed.text()).toContain('"content":"claude "');
      const sent = chatsTo(KEYS.plan, from);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.headers['user-agent']).toBe(AGENT_UA);
      expect(sent[0]!.headers.authorization).toBe(`Bearer ${KEYS.plan}`);
      expect(sent[0]!.headers['x-dashscope-authtype']).toBeUndefined();

      // Token Plan (the next key in turn): Bearer, and the client's User-Agent too.
      from = fake.requests.length;
      expect((await chat(gw, 'qwen3.6-plus', 'as codex', 'codex_cli_rs/0.130.0')).status).toBe(200);
      expect(chatsTo(KEYS.team, from)[0]!.headers).toMatchObject({ 'user-agent': 'codex_cli_rs/0.130.0', authorization: `Bearer ${KEYS.team}` });

      // A script through the OpenAI SDK: the Coding Plan refuses it (405), and the client is told so.
      const lone = await gateway([plan('lone')]);
      const refused = await new OpenAI({ baseURL: `${lone.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 }).chat.completions
        .create({ model: 'qwen3-coder-plus', messages: [{ role: 'user', content: 'script' }] })
        .catch((e) => e);
      expect(refused.status).toBe(405);
      expect(refused.message).toMatch(/only available for Coding Agents/);

      // Pay-as-you-go DashScope is no plan: it gets Qwen Code's User-Agent whatever the client is.
      const alone = await gateway([payg]);
      from = fake.requests.length;
      await new OpenAI({ baseURL: `${alone.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 }).chat.completions.create({ model: 'qwen3-coder-plus', messages: [{ role: 'user', content: 'payg' }] });
      const toPayg = chatsTo(KEYS.payg, from);
      expect(toPayg).toHaveLength(1);
      expect(toPayg[0]!.headers['user-agent']).toMatch(/^QwenCode\//);
    });

    test('a spent Coding Plan key rests until its window rolls over; the request moves to a key of another provider at once', async () => {
      const gw = await gateway([plan(), payg]);
      fake.exhaust(KEYS.plan, 'coding-plan-hour');
      const from = fake.requests.length;
      const before = Date.now();
      const res = await chat(gw, 'qwen3-coder-plus', 'failover');
      expect(res.status).toBe(200);
      expect((await res.json()).choices[0].message.content).toContain('failover');
      expect(chatsTo(KEYS.plan, from)).toHaveLength(1);
      expect(chatsTo(KEYS.payg, from)).toHaveLength(1);
      // The plan key is resting: the next requests go straight to DashScope.
      for (let i = 0; i < 2; i++) expect((await chat(gw, 'qwen3-coder-plus', `again ${i}`)).status).toBe(200);
      expect(chatsTo(KEYS.plan, from)).toHaveLength(1);
      expect(chatsTo(KEYS.payg, from)).toHaveLength(3);

      const accounts = await status(gw);
      expect(accounts.plan).toMatchObject({ kind: 'api-key', provider: 'coding-plan-intl', tier: 'lite', state: 'cooling_down', reason: expect.stringContaining('5h window') });
      const rest = Date.parse(accounts.plan.cooldownUntil) - before;
      expect(rest).toBeGreaterThan(5 * 3_600_000 - 60_000);
      expect(rest).toBeLessThanOrEqual(5 * 3_600_000 + 60_000);
      expect(accounts.payg).toMatchObject({ provider: 'dashscope-us', state: 'ok', requestsToday: 3 });
      const windows = Object.fromEntries(accounts.payg.windows.map((w: { window: string }) => [w.window, w]));
      expect(windows['5h']).toMatchObject({ requests: 3, allowance: null, resetsAt: expect.any(String) });
      expect(windows.week).toMatchObject({ requests: 3 });
      // The plan key's windows carry the Lite allowances.
      expect(accounts.plan.windows.map((w: { allowance: number }) => w.allowance)).toEqual([1_200, 9_000, 18_000]);
      expect(accounts.plan.windows.map((w: { requests: number }) => w.requests)).toEqual([0, 0, 0]);
      fake.restore(KEYS.plan);
    });

    test("the Token Plan's stated reset is honoured, and when every key is spent the client gets 429 with Retry-After", async () => {
      const gw = await gateway([team, plan('plan2', KEYS.plan2)]);
      fake.exhaust(KEYS.team, 'token-plan-week');
      fake.exhaust(KEYS.plan2, 'coding-plan-week');
      const res = await chat(gw, 'qwen3.6-plus', 'nobody');
      expect(res.status).toBe(429);
      const body = await res.json();
      assertOpenAISchema('ErrorResponse', body);
      expect(body.error.code).toBe('insufficient_quota');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const accounts = await status(gw);
      // "reset at 07-27 09:25:00 UTC" — already past this year, so next year's.
      const year = new Date().getUTCFullYear();
      const stated = Date.UTC(year, 6, 27, 9, 25);
      const expected = stated < Date.now() - 86_400_000 ? Date.UTC(year + 1, 6, 27, 9, 25) : stated;
      expect(accounts.team).toMatchObject({ provider: 'token-plan-intl', state: 'cooling_down', cooldownUntil: new Date(expected).toISOString() });
      // The week rolls over on Monday 00:00 UTC+8 (16:00 UTC on a Sunday).
      const weekly = new Date(accounts.plan2.cooldownUntil);
      expect([weekly.getUTCDay(), weekly.getUTCHours(), weekly.getUTCMinutes()]).toEqual([0, 16, 0]);
      fake.restore(KEYS.team);
      fake.restore(KEYS.plan2);
    });

    test('a plain throttle rests the key for Retry-After only', async () => {
      const gw = await gateway([payg, plan()]);
      fake.exhaust(KEYS.payg, 'dashscope-rate-quota', { times: 1, retryAfter: '2' });
      const before = Date.now();
      expect((await chat(gw, 'qwen3-coder-plus', 'throttled')).status).toBe(200);
      const accounts = await status(gw);
      expect(accounts.payg.state).toBe('cooling_down');
      const rest = Date.parse(accounts.payg.cooldownUntil) - before;
      expect(rest).toBeGreaterThanOrEqual(1_000);
      expect(rest).toBeLessThan(10_000);
    });

    test('a key of the wrong kind for its provider: 503 gateway_misconfigured naming the preset that fits; /health still answers', async () => {
      const gw = await gateway([{ ...payg, key: KEYS.plan }]);
      const res = await chat(gw, 'qwen3-coder-plus', 'x');
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.error.code).toBe('gateway_misconfigured');
      expect(body.error.message).toMatch(/QWEN_API_KEYS\[0\].*"coding-plan" or "token-plan"/);
      expect(body.error.message).not.toContain(KEYS.plan);
      expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    });
  });
}
