import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import type { EdgeConfigSource } from '../../vercel/edge-config-source.ts';
import type { Logger } from '../../lib/logger.ts';
import { EDGE_CONFIG_TTL_MS, createVercelDeps, overlayConfig } from '../../vercel/create-vercel-deps.ts';

/**
 * The Vercel composition root on its own, with a controllable clock and Edge Config: what the e2e
 * suites cannot show without waiting (the 10 s refresh) or without breaking Edge Config on purpose.
 */
const ENV = { OPENAI_API_KEY: 'sk-env', OPENAI_MODEL: 'coder-model' };

function setup(items: Record<string, unknown> = {}) {
  let now = 1_000_000;
  const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, fields });
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  const source: EdgeConfigSource & { items: Record<string, unknown>; calls: number; fail: boolean; delayMs: number } = {
    items,
    calls: 0,
    fail: false,
    delayMs: 0,
    async getAll(keys: string[]) {
      source.calls += 1;
      expect(keys).toEqual(['apiKeys', 'models', 'defaultModel']);
      if (source.delayMs) await new Promise((resolve) => setTimeout(resolve, source.delayMs));
      if (source.fail) throw new Error('Edge Config read failed (keys: apiKeys): boom');
      return source.items;
    },
  };
  const clock = { now: () => now };
  const gateway = createVercelDeps(ENV, { clock, logger, edgeConfig: source });
  return { gateway, source, logs, advance: (ms: number) => void (now += ms) };
}

describe('Edge Config overlay', () => {
  test('read on the first request, then at most once per EDGE_CONFIG_TTL_MS', async () => {
    const { gateway, source, advance } = setup({ apiKeys: ['sk-edge'], models: ['m1'], defaultModel: 'm1' });
    const first = await gateway.depsFor();
    expect(first.config).toMatchObject({ apiKeys: ['sk-edge'], models: ['m1'], defaultModel: 'm1' });
    await gateway.depsFor();
    advance(EDGE_CONFIG_TTL_MS - 1);
    await gateway.depsFor();
    expect(source.calls).toBe(1);

    source.items = { apiKeys: ['sk-rotated'] };
    advance(1);
    const later = await gateway.depsFor();
    expect(source.calls).toBe(2);
    expect(later.config).toMatchObject({ apiKeys: ['sk-rotated'], models: loadConfig({}).models, defaultModel: 'coder-model' });
    // The pool (and its token cache) is built once; only the config a request sees changes.
    expect(later.accounts).toBe(first.accounts);
    expect(first.config.apiKeys).toEqual(['sk-edge']);
  });

  test('concurrent requests share one read', async () => {
    const { gateway, source } = setup({ apiKeys: ['sk-edge'] });
    source.delayMs = 20;
    const all = await Promise.all(Array.from({ length: 6 }, () => gateway.depsFor()));
    expect(source.calls).toBe(1);
    expect(new Set(all.map((d) => d.config)).size).toBe(1);
  });

  test('a failed read warns and keeps the settings in use: env before any good read, the last good read after', async () => {
    const { gateway, source, logs, advance } = setup({ apiKeys: ['sk-edge'] });
    source.fail = true;
    expect((await gateway.depsFor()).config.apiKeys).toEqual(['sk-env']);
    expect(logs.filter((l) => l.level === 'warn' && l.msg.startsWith('Edge Config read failed'))).toHaveLength(1);
    await gateway.depsFor();
    expect(source.calls).toBe(1); // a failure is not retried on every request either

    source.fail = false;
    advance(EDGE_CONFIG_TTL_MS);
    expect((await gateway.depsFor()).config.apiKeys).toEqual(['sk-edge']);

    source.fail = true;
    advance(EDGE_CONFIG_TTL_MS);
    expect((await gateway.depsFor()).config.apiKeys).toEqual(['sk-edge']);
    expect(logs.filter((l) => l.msg.startsWith('Edge Config read failed'))).toHaveLength(2);
  });

  test('items of the wrong shape are ignored, with one warning per change', async () => {
    const { gateway, logs, advance } = setup({ apiKeys: [], models: 'a, b', defaultModel: 7 });
    const deps = await gateway.depsFor();
    expect(deps.config).toMatchObject({ apiKeys: ['sk-env'], models: ['a', 'b'], defaultModel: 'coder-model' });
    advance(EDGE_CONFIG_TTL_MS);
    await gateway.depsFor();
    const warned = logs.filter((l) => l.msg === 'Edge Config items ignored');
    expect(warned).toHaveLength(1);
    expect(warned[0]?.fields?.problems).toEqual(['apiKeys is empty', 'defaultModel must be a non-empty string']);
  });

  test('overlayConfig leaves the env config untouched', () => {
    const base = loadConfig(ENV);
    const { config, problems } = overlayConfig(base, { apiKeys: [' k1 ', 'k2'], models: [1] });
    expect(config.apiKeys).toEqual(['k1', 'k2']);
    expect(config.models).toEqual(base.models);
    expect(problems).toEqual(['models must be an array of strings or a comma-separated string']);
    expect(base.apiKeys).toEqual(['sk-env']);
  });
});

describe('host wiring', () => {
  test("waitUntil goes to Vercel's context when there is one; without it the promise runs on and a failure is logged", async () => {
    const { gateway, logs } = setup();
    const kept: Array<Promise<unknown>> = [];
    const withCtx = await gateway.depsFor({ waitUntil: (promise) => void kept.push(promise) });
    const work = Promise.resolve('done');
    withCtx.waitUntil(work);
    expect(kept).toEqual([work]);

    const bare = await gateway.depsFor();
    bare.waitUntil(Promise.reject(new Error('late failure')));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(logs.find((l) => l.msg === 'background task failed')?.fields?.error).toContain('late failure');
  });

  test('no Redis: memory store and exactly one warning; Upstash when its env is set (either spelling)', () => {
    const logs: string[] = [];
    const logger: Logger = { error() {}, info() {}, debug() {}, warn: (msg) => void logs.push(msg) };
    const memory = createVercelDeps({}, { logger });
    expect(logs.filter((m) => m.includes('cold start'))).toHaveLength(1);
    expect(memory).toBeDefined();

    logs.length = 0;
    for (const env of [
      { UPSTASH_REDIS_REST_URL: 'https://example.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't' },
      { KV_REST_API_URL: 'https://example.upstash.io', KV_REST_API_TOKEN: 't' },
    ]) {
      createVercelDeps(env, { logger });
    }
    expect(logs).toEqual([]);
  });

  test('the store is the one chosen from env', async () => {
    const upstash = await createVercelDeps({ UPSTASH_REDIS_REST_URL: 'https://example.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't' }).depsFor();
    expect(upstash.store.name).toBe('upstash');
    const memory = await createVercelDeps({ LOG_LEVEL: 'error' }).depsFor();
    expect(memory.store.name).toBe('memory');
  });
});

describe('Vercel platform limits', () => {
  test('non-streaming answers commit before the 25 s response-start limit by default, and the operator can change it', async () => {
    const { gateway } = setup();
    expect((await gateway.depsFor()).config.responseStartTimeoutMs).toBe(20_000);
    const custom = createVercelDeps({ ...ENV, RESPONSE_START_TIMEOUT_MS: '5000' }, { edgeConfig: { getAll: async () => ({}) } });
    expect((await custom.depsFor()).config.responseStartTimeoutMs).toBe(5_000);
  });
});
