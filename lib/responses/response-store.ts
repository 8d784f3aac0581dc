import type { Store } from '../store/store.ts';

/**
 * Where stored responses live (`store: true`, read back by GET /v1/responses/{id} and by
 * `previous_response_id`). A record is the JSON text `{"input":[…],"response":{…}}`: the whole
 * conversation's input items up to that response (what came before it included), and the response.
 * Written after the answer (waitUntil), never on a request's critical path.
 */
export interface ResponseStore {
  readonly name: string;
  get(id: string): Promise<string | null>;
  put(id: string, record: string, ttlMs: number): Promise<void>;
  /** True when there was such a record. */
  delete(id: string): Promise<boolean>;
}

export const responseKey = (id: string) => `qwen:response:${id}`;

/**
 * Stored responses in the host's Store: Upstash on Vercel (memory without it). Not for Cloudflare
 * KV, whose free plan allows 1,000 writes a day: the Worker uses a Durable Object instead
 * (cloudflare/durable-object-responses.ts).
 */
export class StoreResponseStore implements ResponseStore {
  constructor(private readonly store: Store) {}

  get name(): string {
    return this.store.name;
  }

  get(id: string): Promise<string | null> {
    return this.store.get(responseKey(id));
  }

  put(id: string, record: string, ttlMs: number): Promise<void> {
    return this.store.set(responseKey(id), record, { ttlMs });
  }

  async delete(id: string): Promise<boolean> {
    if ((await this.store.get(responseKey(id))) === null) return false;
    await this.store.delete(responseKey(id));
    return true;
  }
}
