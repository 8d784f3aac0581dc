import type { Store, StoreSetOptions } from './store.ts';
import { addCounters, parseCounters, plainCounters } from './counter-record.ts';

/**
 * The part of Cloudflare's KVNamespace this store uses. Declared here rather than imported so this
 * module type-checks and bundles without the Workers runtime types or any runtime module; the real
 * binding (env.QWEN_KV) and Miniflare's namespace both satisfy it structurally.
 */
export interface KvNamespaceLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** KV rejects an expirationTtl below this many seconds. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;

/**
 * The expirationTtl KV will accept for a TTL in milliseconds.
 *
 * KV refuses expirationTtl < 60 (the write fails with a 400), and it takes whole seconds. Failing a
 * write because a caller wanted a 5 s lock would be worse than keeping the key longer, so round up:
 * a key may outlive its TTL on KV, never the reverse. Callers that need a short lease keep their own
 * deadline in the value (see storage-schema.md).
 */
export function kvExpirationTtlSeconds(ttlMs: number): number {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`ttlMs must be a finite number, got ${ttlMs}`);
  return Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, Math.ceil(ttlMs / 1000));
}

/**
 * A Store over a Cloudflare KV namespace.
 *
 * KV is eventually consistent (a write can take about 60 s to be seen in other locations, and a
 * location may serve a cached read for as long) and has no conditional write, so setIfAbsent and
 * deleteIfValue are read-then-write here: correct within one location most of the time, advisory
 * across the fleet. KV also allows about one write per second to the same key; hot keys belong in
 * memory or in a Durable Object, not here.
 */
export class KvStore implements Store {
  readonly name = 'cloudflare-kv';
  readonly atomicSetIfAbsent = false;
  readonly #kv: KvNamespaceLike;

  constructor(kv: KvNamespaceLike) {
    this.#kv = kv;
  }

  async get(key: string): Promise<string | null> {
    return this.#kv.get(key);
  }

  async set(key: string, value: string, options?: StoreSetOptions): Promise<void> {
    const ttlMs = options?.ttlMs;
    if (ttlMs === undefined) {
      await this.#kv.put(key, value);
    } else {
      await this.#kv.put(key, value, { expirationTtl: kvExpirationTtlSeconds(ttlMs) });
    }
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete(key);
  }

  /**
   * Advisory only (atomicSetIfAbsent is false): two isolates can both read "absent" and both write,
   * and the later write wins while both callers see true.
   */
  async setIfAbsent(key: string, value: string, options?: StoreSetOptions): Promise<boolean> {
    if ((await this.#kv.get(key)) !== null) return false;
    await this.set(key, value, options);
    return true;
  }

  /**
   * Best effort: another writer can replace the value between our read and our delete, and then
   * we delete theirs. Lock holders on KV must therefore also check their own deadline in the value.
   */
  async deleteIfValue(key: string, value: string): Promise<boolean> {
    if ((await this.#kv.get(key)) !== value) return false;
    await this.#kv.delete(key);
    return true;
  }

  /** Best effort, like deleteIfValue: the value is rewritten with the new TTL if it is still ours. */
  async extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean> {
    if ((await this.#kv.get(key)) !== value) return false;
    await this.set(key, value, { ttlMs });
    return true;
  }

  /**
   * Read-then-write: two isolates counting at once can lose one's increment, and KV takes about one
   * write per second per key. Counters that must be exact live in a Durable Object or Upstash.
   */
  async incrementFields(key: string, deltas: Record<string, number>, options?: StoreSetOptions): Promise<Record<string, number>> {
    const next = addCounters(parseCounters(await this.#kv.get(key)), deltas);
    await this.set(key, JSON.stringify(next), options);
    return plainCounters(next);
  }

  async getFields(key: string): Promise<Record<string, number>> {
    return plainCounters(parseCounters(await this.#kv.get(key)));
  }
}
