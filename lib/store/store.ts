/**
 * The one storage contract every backend implements (in-memory, Cloudflare KV, Upstash Redis,
 * Durable Object storage). Values are strings; callers own serialisation.
 *
 * TTLs are in milliseconds. Backends round them to what they can honour: Cloudflare KV cannot
 * expire a key sooner than 60 s after writing it, so a short lock TTL becomes 60 s there. Code that
 * needs a short lease must therefore store its own deadline in the value as well (see
 * storage-schema.md) rather than rely on the backend's expiry.
 */
export interface Store {
  /** A short name for logs and benchmarks: "memory", "cloudflare-kv", "upstash". */
  readonly name: string;
  /**
   * Whether setIfAbsent is a real compare-and-set across every instance that shares the store.
   * Upstash (SET NX PX) and in-memory are; Cloudflare KV is not (it is eventually consistent and has
   * no conditional write), so on KV a lock taken with setIfAbsent is advisory only.
   */
  readonly atomicSetIfAbsent: boolean;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: StoreSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Writes only when the key is absent; true when this call wrote it. */
  setIfAbsent(key: string, value: string, options?: StoreSetOptions): Promise<boolean>;
  /** Deletes the key only while it still holds `value` (lock release); true when it deleted. */
  deleteIfValue(key: string, value: string): Promise<boolean>;
  /** Gives the key a new TTL only while it still holds `value` (a lock holder extending its lease). */
  extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Adds integer deltas to named fields of a counter record, creating the record and its fields as
   * needed, and returns the record's new values. Each field's increment is atomic where the backend
   * is (Upstash HINCRBY, a Durable Object, memory), so concurrent writers never lose a count; on KV it
   * is read-then-write, best effort. Counter records are separate keys from any other record, so
   * counting can never undo another write. The TTL, when given, is renewed on every increment.
   */
  incrementFields(key: string, deltas: Record<string, number>, options?: StoreSetOptions): Promise<Record<string, number>>;
  /** A counter record's fields (empty when there is none). */
  getFields(key: string): Promise<Record<string, number>>;
}

export interface StoreSetOptions {
  ttlMs?: number;
}
