import type { Clock } from '../clock.ts';
import type { Store, StoreSetOptions } from './store.ts';
import { addCounters, parseCounters, plainCounters } from './counter-record.ts';

/** The part of a Durable Object's storage this store uses (declared here: no runtime import). */
export interface DurableObjectStorageLike {
  get<T = unknown>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
}

interface Entry {
  value: string;
  expiresAt?: number;
}

/**
 * A Store over a Durable Object's own storage, used only inside that object. A Durable Object runs
 * one event at a time and its input gate holds new events while a storage call is pending, so a
 * read followed by a write here cannot interleave with another request: setIfAbsent and
 * deleteIfValue are atomic. Storage has no expiry of its own; TTLs are kept beside the value and
 * honoured on read.
 */
export class DurableObjectStore implements Store {
  readonly name = 'durable-object';
  readonly atomicSetIfAbsent = true;

  constructor(
    private readonly storage: DurableObjectStorageLike,
    private readonly clock: Clock,
  ) {}

  async get(key: string): Promise<string | null> {
    const entry = await this.storage.get<Entry>(key);
    if (!entry) return null;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.clock.now()) {
      await this.storage.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: string, options?: StoreSetOptions): Promise<void> {
    const entry: Entry = options?.ttlMs === undefined ? { value } : { value, expiresAt: this.clock.now() + options.ttlMs };
    await this.storage.put(key, entry);
  }

  async delete(key: string): Promise<void> {
    await this.storage.delete(key);
  }

  async setIfAbsent(key: string, value: string, options?: StoreSetOptions): Promise<boolean> {
    if ((await this.get(key)) !== null) return false;
    await this.set(key, value, options);
    return true;
  }

  async deleteIfValue(key: string, value: string): Promise<boolean> {
    if ((await this.get(key)) !== value) return false;
    await this.storage.delete(key);
    return true;
  }

  async extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== value) return false;
    await this.set(key, value, { ttlMs });
    return true;
  }

  /** Read and write run under the object's input gate: no other event interleaves, so no count is lost. */
  async incrementFields(key: string, deltas: Record<string, number>, options?: StoreSetOptions): Promise<Record<string, number>> {
    const next = addCounters(parseCounters(await this.get(key)), deltas);
    await this.set(key, JSON.stringify(next), options);
    return plainCounters(next);
  }

  async getFields(key: string): Promise<Record<string, number>> {
    return plainCounters(parseCounters(await this.get(key)));
  }
}
