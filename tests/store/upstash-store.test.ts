import { Redis, type RedisConfigNodejs } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstashStore, upstashStoreFromEnv } from '../../lib/store/upstash-store.ts';
import { describeWithRedis } from '../support/redis-availability.ts';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.ts';
import { startUpstashRestServer, type UpstashRestServer } from '../support/upstash-rest-server.ts';
import { defineStoreContract } from './store-contract.ts';

// Real Redis behind a local Upstash REST endpoint, driven by the real @upstash/redis client.
let redisServer: RedisServerHandle;
let rest: UpstashRestServer;
let direct: IORedis;
// Keys outside the contract carry a per-run prefix, so a shared REDIS_URL server can be reused.
const run = crypto.randomUUID();
const k = (name: string) => `${run}:${name}`;

const client = (overrides: Partial<RedisConfigNodejs> = {}) =>
  new Redis({ url: rest.url, token: rest.token, retry: false, automaticDeserialization: false, enableTelemetry: false, ...overrides });

// Everything here needs a real Redis; without redis-server it is skipped (in CI it fails).
describeWithRedis('upstash over a real redis-server', () => {
  beforeAll(async () => {
    redisServer = await startRedisServer();
    rest = await startUpstashRestServer(redisServer.url);
    direct = new IORedis(redisServer.url);
  });

  afterAll(async () => {
    await direct?.quit();
    await rest?.close();
    await redisServer?.stop();
  });

  // The client batches concurrent commands into /pipeline by default; without auto-pipelining every
  // command is its own POST /. Production may run either way, so the contract runs over both.
  defineStoreContract('upstash (REST over redis-server)', async () => ({ store: new UpstashStore(client()), cleanup: async () => {} }), {
    expiry: { kind: 'real-time', timeoutMs: 5_000 },
  });
  defineStoreContract(
    'upstash without auto-pipelining',
    async () => ({ store: new UpstashStore(client({ enableAutoPipelining: false })), cleanup: async () => {} }),
    { expiry: { kind: 'real-time', timeoutMs: 5_000 } },
  );

  describe('UpstashStore specifics', () => {
    it('writes TTLs as PX, rounded up to whole milliseconds', async () => {
      const store = new UpstashStore(client());
      await store.set(k('px:a'), 'v', { ttlMs: 30_000.2 });
      await store.setIfAbsent(k('px:b'), 'v', { ttlMs: 45_000 });
      await store.set(k('px:c'), 'v');
      const [a, b, c] = await Promise.all([direct.pttl(k('px:a')), direct.pttl(k('px:b')), direct.pttl(k('px:c'))]);
      expect(a).toBeGreaterThan(29_000);
      expect(a).toBeLessThanOrEqual(30_001);
      expect(b).toBeGreaterThan(44_000);
      expect(b).toBeLessThanOrEqual(45_000);
      expect(c).toBe(-1);
    });

    it('stores the exact bytes in Redis, readable by any other client', async () => {
      const store = new UpstashStore(client());
      const value = '{"n":1.0,"s":"é"}';
      await store.set(k('bytes'), value);
      expect(await direct.get(k('bytes'))).toBe(value);
      await direct.set(k('bytes2'), '42');
      expect(await store.get(k('bytes2'))).toBe('42');
    });

    it('refuses a client that would JSON-parse values', () => {
      expect(() => new UpstashStore(client({ automaticDeserialization: true }))).toThrow(/automaticDeserialization: false/);
      expect(() => new UpstashStore(new Redis({ url: rest.url, token: rest.token, retry: false }))).toThrow(/automaticDeserialization/);
    });

    it('surfaces a wrong token as an error, not as a missing key', async () => {
      const store = new UpstashStore(client({ token: 'wrong' }));
      await expect(store.get(k('anything'))).rejects.toThrow(/Unauthorized/);
    });
  });

  describe('Upstash REST test server', () => {
    it('runs /multi-exec transactions and reports per-command errors', async () => {
      const redis = client({ enableAutoPipelining: false });
      const n = k('tx:n');
      const replies = await redis.multi().set(k('tx:a'), '{"x":1}').get(k('tx:a')).incr(n).exec();
      expect(replies).toEqual(['OK', '{"x":1}', 1]);
    });

    it('maps a Redis error on POST / to an UpstashError', async () => {
      const redis = client({ enableAutoPipelining: false });
      await expect(redis.eval('return redis.error_reply("boom")', [], [])).rejects.toThrow(/boom/);
    });

    it('answers without base64 when the client does not ask for it', async () => {
      const redis = client({ enableAutoPipelining: false, responseEncoding: false });
      await redis.set(k('plain'), 'héllo');
      expect(await redis.get(k('plain'))).toBe('héllo');
    });
  });

  describe('upstashStoreFromEnv', () => {
    it('reads UPSTASH_REDIS_REST_URL/_TOKEN and round-trips JSON- and number-looking values', async () => {
      const store = upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token }, { retry: false });
      expect(store).toBeInstanceOf(UpstashStore);
      await store!.set(k('env:json'), '{"a":[1,2]}');
      await store!.set(k('env:num'), '1e3');
      expect(await store!.get(k('env:json'))).toBe('{"a":[1,2]}');
      expect(await store!.get(k('env:num'))).toBe('1e3');
    });

    it('falls back to Vercel’s KV_REST_API_URL/_TOKEN pair', async () => {
      const store = upstashStoreFromEnv(
        { UPSTASH_REDIS_REST_URL: rest.url, KV_REST_API_URL: rest.url, KV_REST_API_TOKEN: rest.token },
        { retry: false },
      );
      expect(store).toBeInstanceOf(UpstashStore);
      await store!.set(k('env:kv'), '0.10');
      expect(await store!.get(k('env:kv'))).toBe('0.10');
    });

    it('prefers the UPSTASH_ pair when both are set', async () => {
      const store = upstashStoreFromEnv(
        { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token, KV_REST_API_URL: rest.url, KV_REST_API_TOKEN: 'wrong' },
        { retry: false },
      );
      await expect(store!.get(k('env:missing'))).resolves.toBeNull();
    });
  });
});

describe('upstashStoreFromEnv without a server', () => {
  it('is undefined when neither variable pair is complete', () => {
    expect(upstashStoreFromEnv({})).toBeUndefined();
    expect(upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' })).toBeUndefined();
    expect(upstashStoreFromEnv({ KV_REST_API_TOKEN: 'x', UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' })).toBeUndefined();
    expect(upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: ' ', UPSTASH_REDIS_REST_TOKEN: 'x' })).toBeUndefined();
    expect(upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: 1, UPSTASH_REDIS_REST_TOKEN: 2 })).toBeUndefined();
  });
});
