import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvStore, kvExpirationTtlSeconds, type KvNamespaceLike } from '../../lib/store/kv-store.ts';
import { defineStoreContract } from './store-contract.ts';

// The contract runs against the KV implementation inside workerd, not a JS imitation of it.
let mf: Miniflare;
let kv: KvNamespaceLike;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    kvNamespaces: ['QWEN_KV'],
  });
  kv = await mf.getKVNamespace('QWEN_KV');
});

afterAll(async () => {
  await mf?.dispose();
});

defineStoreContract('cloudflare-kv (Miniflare)', async () => ({ store: new KvStore(kv), cleanup: async () => {} }), {
  expiry: { kind: 'minimum-60s' },
});

describe('KvStore TTL rounding', () => {
  it('rounds up to whole seconds and never below KV’s 60 s minimum', () => {
    expect(kvExpirationTtlSeconds(1)).toBe(60);
    expect(kvExpirationTtlSeconds(0)).toBe(60);
    expect(kvExpirationTtlSeconds(-5)).toBe(60);
    expect(kvExpirationTtlSeconds(60_000)).toBe(60);
    expect(kvExpirationTtlSeconds(60_001)).toBe(61);
    expect(kvExpirationTtlSeconds(3_600_000)).toBe(3_600);
    expect(() => kvExpirationTtlSeconds(Number.NaN)).toThrow(RangeError);
    expect(() => kvExpirationTtlSeconds(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('passes expirationTtl only when a TTL is given', async () => {
    const puts: Array<{ key: string; options: unknown }> = [];
    const recording: KvNamespaceLike = {
      get: async () => null,
      put: async (key, _value, options) => void puts.push({ key, options }),
      delete: async () => {},
    };
    const store = new KvStore(recording);
    await store.set('a', 'v');
    await store.set('b', 'v', { ttlMs: 5_000 });
    await store.setIfAbsent('c', 'v', { ttlMs: 90_500 });
    expect(puts).toEqual([
      { key: 'a', options: undefined },
      { key: 'b', options: { expirationTtl: 60 } },
      { key: 'c', options: { expirationTtl: 91 } },
    ]);
  });

  it('a 1 ms TTL is a write real KV accepts (it rejects expirationTtl < 60)', async () => {
    const store = new KvStore(kv);
    await store.set('ttl-accepted', 'v', { ttlMs: 1 });
    expect(await store.get('ttl-accepted')).toBe('v');
    // Shows why rounding is needed: the raw namespace refuses a short TTL outright.
    await expect(kv.put('ttl-raw', 'v', { expirationTtl: 1 })).rejects.toThrow();
  });
});
