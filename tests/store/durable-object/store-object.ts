import { DurableObject } from 'cloudflare:workers';
import { DurableObjectStore } from '../../../lib/store/durable-object-store.ts';

/**
 * A Durable Object that exposes DurableObjectStore over RPC, so the one store contract suite runs
 * against the real Durable Object storage in workerd (the store only works inside an object).
 */
export class StoreObject extends DurableObject {
  readonly #store = new DurableObjectStore(this.ctx.storage, { now: () => Date.now() });
  get(key: string) {
    return this.#store.get(key);
  }
  set(key: string, value: string, ttlMs?: number) {
    return this.#store.set(key, value, ttlMs === undefined ? undefined : { ttlMs });
  }
  delete(key: string) {
    return this.#store.delete(key);
  }
  setIfAbsent(key: string, value: string, ttlMs?: number) {
    return this.#store.setIfAbsent(key, value, ttlMs === undefined ? undefined : { ttlMs });
  }
  deleteIfValue(key: string, value: string) {
    return this.#store.deleteIfValue(key, value);
  }
  extendIfValue(key: string, value: string, ttlMs: number) {
    return this.#store.extendIfValue(key, value, ttlMs);
  }
  incrementFields(key: string, deltas: Record<string, number>, ttlMs?: number) {
    return this.#store.incrementFields(key, deltas, ttlMs === undefined ? undefined : { ttlMs });
  }
  getFields(key: string) {
    return this.#store.getFields(key);
  }
}

export default { fetch: () => new Response('') };
